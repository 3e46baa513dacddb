import { createHash } from "node:crypto";
import { closeSync, constants, fstatSync, openSync, readSync, watch, type FSWatcher, type Stats } from "node:fs";
import { lstat, open, readdir, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { LineSplitter } from "../adapters/messaging/lines.ts";
import {
  checkMirrorPath,
  isAppendKind,
  MIRROR_DIRS,
  MIRROR_PROTOCOL_VERSION,
  MIRROR_STREAM,
  parseHostFrame,
  type HeldFile,
  type MirrorKind,
  type MirrorLimits,
  type WorkerFrame,
} from "../core/instances/mirror-protocol.ts";

/**
 * `node /opt/cspace/worker.cjs mirror [dir] [--poll-ms N] [--beat-ms N]`:
 * the container's end of the instance-directory mirror (the host's end is
 * src/adapters/fs/instance-mirror.ts). It reads what the host already holds
 * (the first line on stdin), then watches the instance directory and writes
 * every change as NDJSON on stdout: appends to events and logs as (path,
 * offset, bytes), records (state.json, reports) whole, removals, and the
 * rotation of events.ndjson as a move. fs.watch makes it prompt; a scan every
 * `pollMs` whatever the watchers say makes it complete (a missed event only
 * delays a change, never loses it). `sync <id>` on stdin is answered by
 * `synced <id>` after a scan begun after it. Exits on end of input, or when
 * the host's heartbeat stops (an exec whose client vanished would run on).
 */

export interface InstanceMirrorOptions {
  readonly dir: string;
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream;
  readonly pollMs: number;
  readonly beatMs: number;
}

/** Exit codes: 0 at end of input, 1 when the host's heartbeat stopped or stdout broke, 2 for a bad first line. */
export const MirrorExit = { ok: 0, hostGone: 1, badInput: 2 } as const;

const OPEN_READ = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const HOST_LINE_BYTES = 8 * 1024 * 1024;

/** What the mirror knows the host holds of one file. */
interface Held {
  /** The host's size of it. */
  size: number;
  /** Records: the sha256 of the host's content. Append files from the host's list: of its content, until adopted. */
  sha256: string | null;
  /** Append files: the container file (inode) the host's copy follows, and how far into it was sent. */
  ino: number | null;
  pos: number;
  /** Records: the container file's stat when last read, to skip reading it again unchanged. */
  statKey: string | null;
}

export function parseMirrorArgs(args: readonly string[]): { dir: string; pollMs: number; beatMs: number } | string {
  let dir = "/run/cspace";
  let pollMs = 1000;
  let beatMs: number = MIRROR_STREAM.beatMs;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] ?? "";
    if (arg === "--poll-ms" || arg === "--beat-ms") {
      const value = Number(args[i + 1]);
      if (!Number.isInteger(value) || value < 10) return `${arg} needs a number of milliseconds (10 or more)`;
      if (arg === "--poll-ms") pollMs = value;
      else beatMs = value;
      i += 1;
    } else if (arg.startsWith("--")) {
      return `unknown option ${arg}`;
    } else {
      dir = arg;
    }
  }
  return { dir, pollMs, beatMs };
}

export async function runInstanceMirror(options: InstanceMirrorOptions): Promise<number> {
  const mirror = new InstanceMirror(options);
  return mirror.run();
}

class InstanceMirror {
  readonly #o: InstanceMirrorOptions;
  readonly #held = new Map<string, Held>();
  readonly #notes = new Set<string>();
  readonly #watchers = new Map<string, FSWatcher>();
  #limits: MirrorLimits | null = null;
  #scanning: Promise<void> | null = null;
  #again = false;
  #syncs: number[] = [];
  #lastInput = Date.now();
  #done: (code: number) => void = () => undefined;
  #finished = false;

  constructor(options: InstanceMirrorOptions) {
    this.#o = options;
  }

  run(): Promise<number> {
    const finished = new Promise<number>((resolve) => { this.#done = resolve; });
    const lines = new LineSplitter(HOST_LINE_BYTES, {
      line: (text) => { this.#onLine(text); },
      overflow: () => { this.#finish(MirrorExit.badInput); },
    });
    this.#o.input.on("data", (chunk: Buffer | string) => {
      this.#lastInput = Date.now();
      lines.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
    });
    this.#o.input.on("end", () => { this.#finish(MirrorExit.ok); });
    this.#o.input.on("close", () => { this.#finish(MirrorExit.ok); });
    this.#o.input.on("error", () => { this.#finish(MirrorExit.hostGone); });
    this.#o.output.on("error", () => { this.#finish(MirrorExit.hostGone); });
    const beat = setInterval(() => {
      if (Date.now() - this.#lastInput > 3 * this.#o.beatMs) this.#finish(MirrorExit.hostGone);
      else void this.#send({ t: "beat" });
    }, this.#o.beatMs);
    const poll = setInterval(() => { this.#kick(); }, this.#o.pollMs);
    return finished.then((code) => {
      clearInterval(beat);
      clearInterval(poll);
      for (const watcher of this.#watchers.values()) watcher.close();
      this.#watchers.clear();
      return code;
    });
  }

  #finish(code: number): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#done(code);
  }

  #onLine(text: string): void {
    const parsed = parseHostFrame(text);
    if (!parsed.ok) {
      process.stderr.write(`cspace mirror: ${parsed.reason}\n`);
      this.#finish(MirrorExit.badInput);
      return;
    }
    const frame = parsed.frame;
    switch (frame.t) {
      case "have":
        if (this.#limits !== null) return;
        this.#limits = frame.limits;
        for (const [file, held] of Object.entries(frame.files)) this.#adoptHeld(file, held);
        void this.#send({ t: "hello", v: MIRROR_PROTOCOL_VERSION });
        this.#kick();
        return;
      case "sync":
        this.#syncs.push(frame.id);
        this.#kick();
        return;
      case "beat":
        return;
    }
  }

  #adoptHeld(file: string, held: HeldFile): void {
    if (!checkMirrorPath(file).ok) return;
    this.#held.set(file, { size: held.size, sha256: held.sha256, ino: null, pos: 0, statKey: null });
  }

  /** One scan at a time; asked for during one, another follows it. */
  #kick(): void {
    if (this.#limits === null || this.#finished) return;
    if (this.#scanning !== null) {
      this.#again = true;
      return;
    }
    this.#scanning = this.#loop().finally(() => { this.#scanning = null; });
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      // Syncs asked for before this scan began are answered after it: everything they could mean is in it.
      const syncs = this.#syncs.splice(0);
      try {
        await this.#scan();
      } catch (error) {
        await this.#note(`a scan of ${this.#o.dir} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      for (const id of syncs) await this.#send({ t: "synced", id });
    } while (this.#askedAgain() && !this.#finished);
  }

  /** Read through a method: the compiler would take the field for the `false` set above, across the awaits. */
  #askedAgain(): boolean {
    return this.#again;
  }

  async #scan(): Promise<void> {
    const seen = await this.#listed();
    this.#armWatchers();
    this.#matchHeldAppends(seen);
    const moves = this.#moves(seen);
    for (const [from, to] of moves) await this.#send({ t: "move", from, to });
    for (const [file, info] of seen) {
      if (this.#finished) return;
      const kind = checkMirrorPath(file);
      if (!kind.ok) continue;
      if (isAppendKind(kind.kind)) await this.#syncAppend(file, info, kind.kind);
      else await this.#syncRecord(file, info);
    }
    // Removals last: a report moved to delivered/ is on the host there before it leaves outbox/.
    for (const file of [...this.#held.keys()]) {
      if (seen.has(file)) continue;
      this.#held.delete(file);
      await this.#send({ t: "remove", path: file });
    }
  }

  /** The mirrored files of the directory now: regular files at allowed names; anything else at such a name is noted and left out. */
  async #listed(): Promise<Map<string, Stats>> {
    const found = new Map<string, Stats>();
    for (const folder of ["", ...MIRROR_DIRS]) {
      const at = path.join(this.#o.dir, folder);
      if (folder !== "") {
        const info = await lstat(at).catch(() => null);
        if (info === null) continue;
        if (!info.isDirectory()) {
          await this.#note(`${folder} is not a directory: nothing in it is mirrored`);
          continue;
        }
      }
      // The directory itself unreadable (the container going away): no scan at all, rather than one that removes every file from the host.
      const names = folder === "" ? await readdir(at) : await readdir(at).catch(() => []);
      for (const name of names) {
        const file = folder === "" ? name : `${folder}/${name}`;
        if (!checkMirrorPath(file).ok) continue;
        const info = await lstat(path.join(this.#o.dir, file)).catch(() => null);
        if (info === null) continue;
        if (info.isFile()) found.set(file, info);
        else await this.#note(`${file} is not a regular file (a link, a FIFO or a directory): it is not mirrored`);
      }
    }
    return found;
  }

  /**
   * Append files the host listed, not yet tied to a container file: tied to
   * the one whose first bytes are the host's copy — its own name, else
   * another of its kind (the file rotated while no mirror ran: a move).
   */
  #matchHeldAppends(seen: ReadonlyMap<string, Stats>): void {
    for (const [file, held] of this.#held) {
      const kind = checkMirrorPath(file);
      if (!kind.ok || !isAppendKind(kind.kind) || held.ino !== null || held.sha256 === null) continue;
      const candidates = [file, ...(held.size > 0 ? [...seen.keys()].filter((other) => other !== file && checkMirrorPath(other).ok && mirrorKindOf(other) === kind.kind) : [])];
      for (const candidate of candidates) {
        const info = seen.get(candidate);
        if (info === undefined || info.size < held.size) continue;
        if (prefixHash(path.join(this.#o.dir, candidate), info.ino, held.size) !== held.sha256) continue;
        held.ino = info.ino;
        held.pos = held.size;
        break;
      }
      held.sha256 = null;
    }
  }

  /** Renames seen since the last scan: a held append file whose inode is now at another name (and not at its own). */
  #moves(seen: ReadonlyMap<string, Stats>): [string, string][] {
    const moves: [string, string][] = [];
    for (const [file, info] of seen) {
      if (this.#held.get(file)?.ino === info.ino) continue;
      for (const [other, held] of this.#held) {
        if (other === file || held.ino !== info.ino || seen.get(other)?.ino === info.ino) continue;
        if (mirrorKindOf(other) !== mirrorKindOf(file)) continue;
        this.#held.set(file, held);
        this.#held.delete(other);
        moves.push([other, file]);
        break;
      }
    }
    return moves;
  }

  async #syncAppend(file: string, info: Stats, kind: MirrorKind): Promise<void> {
    const limit = this.#limitOf(kind);
    const handle = await openRegular(path.join(this.#o.dir, file), info.ino);
    if (handle === null) return;
    try {
      const size = (await handle.stat()).size;
      let held = this.#held.get(file);
      if (held?.ino !== info.ino || size < held.pos) held = await this.#restart(file, info.ino, size, limit, handle);
      while (held.pos < size && !this.#finished) {
        let length = Math.min(MIRROR_STREAM.chunkBytes, size - held.pos);
        if (held.size + length > limit) {
          held = await this.#restart(file, info.ino, size, limit, handle);
          continue;
        }
        const data = await readAt(handle, held.pos, length);
        length = data.length;
        if (length === 0) break;
        await this.#send({ t: "append", path: file, offset: held.size, data: data.toString("base64") });
        held.pos += length;
        held.size += length;
      }
    } finally {
      await handle.close();
    }
  }

  /** Starts the host's copy of an append file over (a new file at that name, or one past its limit): a put of its first chunk, or of the chunk where its last half-limit begins. */
  async #restart(file: string, ino: number, size: number, limit: number, handle: FileHandle): Promise<Held> {
    const start = size > limit ? size - Math.floor(limit / 2) : 0;
    if (start > 0) await this.#note(`${file} passed the ${String(limit)} bytes the host keeps of it: the host now keeps its end only`);
    const data = await readAt(handle, start, Math.min(MIRROR_STREAM.chunkBytes, size - start));
    await this.#send({ t: "put", path: file, data: data.toString("base64") });
    const held: Held = { size: data.length, sha256: null, ino, pos: start + data.length, statKey: null };
    this.#held.set(file, held);
    return held;
  }

  async #syncRecord(file: string, info: Stats): Promise<void> {
    const limit = this.#limitOf("record");
    const key = `${String(info.ino)}:${String(info.size)}:${String(info.mtimeMs)}:${String(info.ctimeMs)}`;
    const held = this.#held.get(file);
    if (held?.statKey === key) return;
    if (info.size > limit) {
      await this.#note(`${file} is ${String(info.size)} bytes, more than the ${String(limit)} the host keeps of it: it is not mirrored`);
      if (held !== undefined) {
        this.#held.delete(file);
        await this.#send({ t: "remove", path: file });
      }
      return;
    }
    const handle = await openRegular(path.join(this.#o.dir, file), info.ino);
    if (handle === null) return;
    let content: Buffer;
    try {
      content = await readAt(handle, 0, limit + 1);
    } finally {
      await handle.close();
    }
    if (content.length > limit) return;
    const sha256 = createHash("sha256").update(content).digest("hex");
    if (held?.sha256 === sha256) {
      held.statKey = key;
      return;
    }
    await this.#send({ t: "put", path: file, data: content.toString("base64") });
    this.#held.set(file, { size: content.length, sha256, ino: null, pos: 0, statKey: key });
  }

  #limitOf(kind: MirrorKind): number {
    return this.#limits?.[kind] ?? 0;
  }

  /** Watches the directory and its outbox folders as they appear: a change there starts a scan at once. */
  #armWatchers(): void {
    for (const folder of ["", ...MIRROR_DIRS]) {
      if (this.#watchers.has(folder)) continue;
      try {
        const watcher = watch(path.join(this.#o.dir, folder), () => { this.#kick(); });
        watcher.on("error", () => {
          watcher.close();
          this.#watchers.delete(folder);
        });
        this.#watchers.set(folder, watcher);
      } catch {
        // Not there yet, or no watches left: the poll covers it.
      }
    }
  }

  async #note(text: string): Promise<void> {
    if (this.#notes.has(text)) return;
    this.#notes.add(text);
    await this.#send({ t: "note", text: text.slice(0, 1000) });
  }

  #send(frame: WorkerFrame): Promise<void> {
    if (this.#finished) return Promise.resolve();
    const output = this.#o.output;
    return new Promise((resolve) => {
      if (output.write(`${JSON.stringify(frame)}\n`)) resolve();
      else output.once("drain", resolve);
    });
  }
}

function mirrorKindOf(file: string): MirrorKind | null {
  const check = checkMirrorPath(file);
  return check.ok ? check.kind : null;
}

/** Opens a regular file without following a link, and only the one a scan saw (its inode); null when it is gone or changed. */
async function openRegular(file: string, ino: number): Promise<FileHandle | null> {
  let handle: FileHandle;
  try {
    handle = await open(file, OPEN_READ);
  } catch {
    return null;
  }
  const info = await handle.stat();
  if (!info.isFile() || info.ino !== ino) {
    await handle.close();
    return null;
  }
  return handle;
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}

/** The sha256 of a file's first `length` bytes, read synchronously in pieces (a restart reads each file once); null when unreadable. */
function prefixHash(file: string, ino: number, length: number): string | null {
  let fd: number;
  try {
    fd = openSync(file, OPEN_READ);
  } catch {
    return null;
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile() || info.ino !== ino) return null;
    const hash = createHash("sha256");
    const buffer = Buffer.alloc(Math.min(length, 1024 * 1024));
    let done = 0;
    while (done < length) {
      const read = readSync(fd, buffer, 0, Math.min(buffer.length, length - done), done);
      if (read === 0) return null;
      hash.update(buffer.subarray(0, read));
      done += read;
    }
    return hash.digest("hex");
  } finally {
    closeSync(fd);
  }
}
