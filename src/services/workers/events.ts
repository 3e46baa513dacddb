import type { FileHandle } from "node:fs/promises";
import { watch, type FSWatcher } from "node:fs";
import path from "node:path";
import { lstatUntrusted, openUntrustedFile, readUntrustedFile, UNTRUSTED_LIMITS } from "../../adapters/fs/untrusted-dir.ts";
import type { WorkerEvent } from "../../core/agents/worker-status.ts";
import type { InstancePaths } from "./instance-files.ts";

/**
 * Reading an instance's events.ndjson as it grows. The supervisor writes each
 * event as one whole line and, past its size limit, renames the file to
 * events.1.ndjson and starts a new one; so a reader holds the file by its
 * inode, drains it to the end when the name points elsewhere, then goes on
 * with the new file from its start. Nothing is missed across a rotation.
 * The worker can write these files: they are opened through
 * adapters/fs/untrusted-dir.ts (no link followed, regular files only) and
 * read UNTRUSTED_LIMITS.events at a time at most.
 */

/** A file of the instance directory by its name there (the paths are `<dir>/<name>`). */
function nameIn(paths: InstancePaths, file: string): string {
  return path.relative(paths.dir, file);
}

async function statOf(paths: InstancePaths, file: string): Promise<{ readonly ino: number; readonly size: number } | null> {
  const info = await lstatUntrusted(paths.dir, nameIn(paths, file)).catch(() => null);
  return info?.isFile() === true ? info : null;
}

async function textOf(paths: InstancePaths, file: string): Promise<Buffer> {
  return (await readUntrustedFile(paths.dir, nameIn(paths, file), UNTRUSTED_LIMITS.events)) ?? Buffer.alloc(0);
}

/** Where a reader is: which file (by inode) and how far into it. */
export interface EventsPosition {
  readonly ino: number;
  readonly offset: number;
}

/** One line of the log, raw (for --json) and parsed (null when it is not an event). */
export interface EventLine {
  readonly raw: string;
  readonly event: WorkerEvent | null;
}

/** The end of the current events file now (events written after this are "new"); null when there is none yet. */
export async function eventsEnd(paths: InstancePaths): Promise<EventsPosition | null> {
  const info = await statOf(paths, paths.events);
  return info === null ? null : { ino: info.ino, offset: info.size };
}

/** Every event on disk, oldest first: the rotated file, then the current one. */
export async function readAllEvents(paths: InstancePaths): Promise<EventLine[]> {
  const [rotated, current] = await Promise.all([textOf(paths, paths.eventsRotated), textOf(paths, paths.events)]);
  return [...linesOf(rotated.toString("utf8")), ...linesOf(current.toString("utf8"))].map(toEventLine);
}

/** The last event's time, reading only the file's tail (list calls this for every instance). */
export async function lastEventTime(paths: InstancePaths): Promise<string | null> {
  for (const file of [paths.events, paths.eventsRotated]) {
    let handle: FileHandle | null = null;
    try {
      handle = await openUntrustedFile(paths.dir, nameIn(paths, file));
      if (handle === null) continue;
      const { size } = await handle.stat();
      const length = Math.min(size, 64 * 1024);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      const lines = linesOf(buffer.toString("utf8"));
      for (let i = lines.length - 1; i >= 0; i -= 1) {
        const event = toEventLine(lines[i] ?? "").event;
        if (event !== null) return event.ts;
      }
    } catch {
      // Missing or unreadable: try the rotated file, then give up.
    } finally {
      await handle?.close();
    }
  }
  return null;
}

export function toEventLine(raw: string): EventLine {
  return { raw, event: parseEvent(raw) };
}

function parseEvent(raw: string): WorkerEvent | null {
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== "object" || value === null) return null;
    const fields = value as Record<string, unknown>;
    if (typeof fields.ts !== "string" || typeof fields.type !== "string") return null;
    if (fields.source !== "agent" && fields.source !== "supervisor" && fields.source !== "message") return null;
    return value as WorkerEvent;
  } catch {
    return null;
  }
}

function linesOf(text: string): string[] {
  return text.split("\n").filter((line) => line.trim() !== "");
}

export interface TailOptions {
  /** Where to start: a position from eventsEnd(), or "start" for everything on disk. */
  readonly from: EventsPosition | "start";
  readonly signal?: AbortSignal | undefined;
  /**
   * Asked when nothing new has come for `idleCheckMs`: whether more can
   * still come (the supervisor answers). When it says no, the tail reads
   * what is left and ends.
   */
  readonly stillWriting?: (() => Promise<boolean>) | undefined;
  readonly idleCheckMs?: number | undefined;
}

/** How often the file is looked at when the filesystem does not tell (a watcher is the fast path). */
const POLL_MS = 250;

/**
 * Yields each line appended to events.ndjson from `from` on, across
 * rotations, until the signal aborts or `stillWriting` says nothing more
 * will come. A partial last line waits for its newline.
 */
export async function* tailEvents(paths: InstancePaths, options: TailOptions): AsyncGenerator<EventLine> {
  const reader = new EventsReader(paths);
  const wake = new Wakeup(path.dirname(paths.events), options.signal);
  try {
    if (options.from === "start") {
      for (const line of linesOf((await textOf(paths, paths.eventsRotated).catch(() => Buffer.alloc(0))).toString("utf8"))) yield toEventLine(line);
      await reader.openAt(0, null);
    } else {
      await reader.openAt(options.from.offset, options.from.ino);
    }
    let idleSince = Date.now();
    const idleCheckMs = options.idleCheckMs ?? 2_000;
    while (options.signal?.aborted !== true) {
      const lines = await reader.next();
      for (const line of lines) yield toEventLine(line);
      if (lines.length > 0) {
        idleSince = Date.now();
        continue;
      }
      if (options.stillWriting !== undefined && Date.now() - idleSince >= idleCheckMs) {
        idleSince = Date.now();
        if (!(await options.stillWriting())) {
          for (const line of await reader.next()) yield toEventLine(line);
          return;
        }
      }
      await wake.wait(POLL_MS);
    }
  } finally {
    wake.close();
    await reader.close();
  }
}

/** Reads whole lines from the events file held by inode, following it to a new file after a rotation. */
class EventsReader {
  readonly #paths: InstancePaths;
  #handle: FileHandle | null = null;
  #ino: number | null = null;
  #offset = 0;
  #partial = "";
  /** A position in a file that was rotated away before we opened it: read from the rotated file first. */
  #pending: { ino: number; offset: number } | null = null;

  constructor(paths: InstancePaths) {
    this.#paths = paths;
  }

  async openAt(offset: number, ino: number | null): Promise<void> {
    this.#offset = offset;
    if (ino !== null) {
      const current = await statOf(this.#paths, this.#paths.events);
      if (current?.ino !== ino) this.#pending = { ino, offset };
    }
    if (this.#pending === null) await this.#open(this.#paths.events, ino);
  }

  /** New complete lines, or none. */
  async next(): Promise<string[]> {
    if (this.#pending !== null) {
      // Our starting file was renamed to events.1.ndjson: finish it there, then start the new file from 0.
      const rotated = await statOf(this.#paths, this.#paths.eventsRotated);
      const text = rotated?.ino === this.#pending.ino ? await this.#readFrom(this.#paths.eventsRotated, this.#pending.offset) : "";
      this.#pending = null;
      this.#offset = 0;
      await this.#open(this.#paths.events, null);
      return [...this.#split(text, true), ...(await this.next())];
    }
    if (this.#handle === null && !(await this.#open(this.#paths.events, null))) return [];
    const lines = this.#split(await this.#readRest(), false);
    const current = await statOf(this.#paths, this.#paths.events);
    if (this.#handle !== null && current !== null && current.ino !== this.#ino) {
      // Rotated: what is left in our (renamed) file comes first, then the new one.
      lines.push(...this.#split(await this.#readRest(), true));
      await this.#handle.close();
      this.#handle = null;
      this.#offset = 0;
      await this.#open(this.#paths.events, null);
      lines.push(...(await this.next()));
    }
    return lines;
  }

  async close(): Promise<void> {
    await this.#handle?.close();
    this.#handle = null;
  }

  /** Whether the file could be opened (it may not exist yet). */
  async #open(file: string, expectedIno: number | null): Promise<boolean> {
    try {
      const handle = await openUntrustedFile(this.#paths.dir, nameIn(this.#paths, file));
      if (handle === null) throw new Error("no events file yet");
      const info = await handle.stat();
      // A file shorter than where we were is a new one (it was replaced while nothing was open): read it whole.
      if (expectedIno === null && info.size < this.#offset) this.#offset = 0;
      this.#handle = handle;
      this.#ino = info.ino;
      return true;
    } catch {
      this.#handle = null;
      return false;
    }
  }

  async #readRest(): Promise<string> {
    if (this.#handle === null) return "";
    const chunks: Buffer[] = [];
    // At most one file's worth per call: a worker appending without end cannot make the host hold it all at once.
    for (let total = 0; total < UNTRUSTED_LIMITS.events; ) {
      const buffer = Buffer.alloc(64 * 1024);
      const { bytesRead } = await this.#handle.read(buffer, 0, buffer.length, this.#offset);
      if (bytesRead === 0) break;
      this.#offset += bytesRead;
      total += bytesRead;
      chunks.push(buffer.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks).toString("utf8");
  }

  async #readFrom(file: string, offset: number): Promise<string> {
    const text = await textOf(this.#paths, file).catch(() => Buffer.alloc(0));
    return text.subarray(Math.min(offset, text.length)).toString("utf8");
  }

  /** Whole lines of what was read; the tail without a newline is kept for next time (or given up at the end of a rotated file). */
  #split(text: string, final: boolean): string[] {
    const joined = this.#partial + text;
    const parts = joined.split("\n");
    this.#partial = final ? "" : (parts.pop() ?? "");
    if (final && parts.at(-1) === "") parts.pop();
    return parts.filter((line) => line.trim() !== "");
  }
}


/** Resolves a wait early when the instance directory changes (where the filesystem says so) or the signal aborts. */
class Wakeup {
  #watcher: FSWatcher | null = null;
  #wakers = new Set<() => void>();
  readonly #signal: AbortSignal | undefined;

  constructor(dir: string, signal: AbortSignal | undefined) {
    this.#signal = signal;
    try {
      this.#watcher = watch(dir, () => { this.#wakeAll(); });
      this.#watcher.on("error", () => { this.close(); });
    } catch {
      this.#watcher = null;
    }
    signal?.addEventListener("abort", () => { this.#wakeAll(); }, { once: true });
  }

  wait(ms: number): Promise<void> {
    if (this.#signal?.aborted === true) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakers.add(done);
    });
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = null;
  }

  #wakeAll(): void {
    for (const wake of [...this.#wakers]) wake();
  }
}
