import { randomBytes } from "node:crypto";
import { constants, type Dirent, type Stats } from "node:fs";
import { lstat, mkdir, open, readdir, rename, unlink, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { ExternalError } from "../../core/errors.ts";

/**
 * The one way the host touches a directory a container can write (an
 * instance's `<run dir>/<instance>/`, mounted read-write at /run/cspace).
 * Whatever is in there may have been planted by a hostile agent, and the host
 * often runs as root, so:
 *
 * - no path is followed through a link: a directory below the root is opened
 *   component by component with O_NOFOLLOW and its children are reached
 *   through the opened descriptor (`/proc/self/fd/N/<name>` on Linux, which
 *   is openat() for Node), so a link swapped in after a check is never
 *   crossed either;
 * - a file is read only when it is a regular file (lstat, then O_NOFOLLOW |
 *   O_NONBLOCK so a FIFO cannot hang the open, then fstat), and at most the
 *   bytes its kind may have: more is an error naming the file;
 * - a file is written under a fresh random name (O_CREAT | O_EXCL |
 *   O_NOFOLLOW) and renamed over its target: rename replaces a planted link
 *   or file, it never writes through it.
 *
 * `root` itself must lie in a directory the container cannot write (the run
 * directory); its last component is still opened without following a link.
 * Without /proc (macOS) children are reached by path after an lstat of each
 * directory: a race remains there, the Linux host a container shares has none.
 */

/** The most bytes the host reads of each kind of file a worker writes. */
export const UNTRUSTED_LIMITS = {
  /** state.json, a report in the outbox, supervisor.pid, launch.json. */
  record: 1024 * 1024,
  /** prompt.md: an issue's body and its context. */
  prompt: 4 * 1024 * 1024,
  /** events.ndjson and events.1.ndjson rotate at 10 MiB (LAUNCH_DEFAULTS.eventsMaxBytes); a line may end past it. */
  events: 16 * 1024 * 1024,
} as const;

/** A file in a container-writable directory that the host refuses: a link, not a regular file, too large. */
export class UntrustedFileError extends ExternalError {
  constructor(file: string, why: string) {
    super(`refused ${file}: ${why}`, { hint: "the worker's instance directory holds something cspace did not put there; cspace down <instance> removes it" });
  }
}

const OPEN_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const OPEN_READ = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;
const OPEN_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_NOCTTY;

const viaProc = process.platform === "linux";

/** An opened directory: `at(name)` is a path to its child that does not depend on the directory's name. */
class OpenedDir {
  readonly shown: string;
  readonly #handle: FileHandle | null;
  readonly #path: string;

  constructor(shown: string, handle: FileHandle | null) {
    this.shown = shown;
    this.#handle = handle;
    this.#path = handle === null ? shown : `/proc/self/fd/${String(handle.fd)}`;
  }

  at(name: string): string {
    if (name === "" || name === "." || name === ".." || name.includes("/")) throw new Error(`not a plain file name: ${JSON.stringify(name)}`);
    return `${this.#path}/${name}`;
  }

  get self(): string {
    return this.#path;
  }

  async close(): Promise<void> {
    await this.#handle?.close();
  }
}

/**
 * Opens `root` and then each of `below` (directory names) without following
 * a link; null when one of them does not exist. A link or a non-directory on
 * the way is an UntrustedFileError.
 */
async function openDir(root: string, below: readonly string[]): Promise<OpenedDir | null> {
  const names = [root, ...below];
  let current: OpenedDir | null = null;
  let shown = "";
  for (const [index, name] of names.entries()) {
    shown = index === 0 ? root : path.join(shown, name);
    const target: string = current === null ? root : current.at(name);
    if (!viaProc) {
      const info = await lstat(target).catch(nullIfMissing);
      if (info === null) return null;
      if (!info.isDirectory()) throw new UntrustedFileError(shown, info.isSymbolicLink() ? "it is a symbolic link" : "it is not a directory");
      current = new OpenedDir(shown, null);
      continue;
    }
    let handle: FileHandle;
    try {
      handle = await open(target, OPEN_DIR);
    } catch (error) {
      await current?.close();
      if (codeOf(error) === "ENOENT") return null;
      if (codeOf(error) === "ELOOP" || codeOf(error) === "ENOTDIR") throw new UntrustedFileError(shown, "it is a symbolic link or not a directory");
      throw new ExternalError(`cannot open ${shown}: ${messageOf(error)}`, { cause: error });
    }
    await current?.close();
    current = new OpenedDir(shown, handle);
  }
  return current;
}

/** Runs `work` in the directory `root/below…`; `missing` when it does not exist. */
async function inDir<T>(root: string, below: readonly string[], missing: T, work: (dir: OpenedDir) => Promise<T>): Promise<T> {
  const dir = await openDir(root, below);
  if (dir === null) return missing;
  try {
    return await work(dir);
  } finally {
    await dir.close();
  }
}

/** Splits "outbox/x.json" into its directories and its file name. */
function split(relative: string): { readonly dirs: string[]; readonly name: string } {
  const parts = relative.split("/").filter((part) => part !== "");
  const name = parts.pop();
  if (name === undefined) throw new Error(`no file name in ${JSON.stringify(relative)}`);
  return { dirs: parts, name };
}

/**
 * Opens a regular file for reading without following a link; null when
 * there is none. The caller closes it (and reads no more than it means to).
 */
export async function openUntrustedFile(root: string, relative: string): Promise<FileHandle | null> {
  const { dirs, name } = split(relative);
  return inDir(root, dirs, null, (dir) => openIn(dir, name));
}

async function openIn(dir: OpenedDir, name: string): Promise<FileHandle | null> {
  const shown = path.join(dir.shown, name);
  // lstat first: opening a device node can itself do something, so only what looks like a file is opened.
  const info = await lstat(dir.at(name)).catch(nullIfMissing);
  if (info === null) return null;
  if (!info.isFile()) throw new UntrustedFileError(shown, kindOf(info));
  let handle: FileHandle;
  try {
    handle = await open(dir.at(name), OPEN_READ);
  } catch (error) {
    if (codeOf(error) === "ENOENT") return null;
    if (codeOf(error) === "ELOOP") throw new UntrustedFileError(shown, "it is a symbolic link");
    throw new ExternalError(`cannot open ${shown}: ${messageOf(error)}`, { cause: error });
  }
  const opened = await handle.stat();
  if (!opened.isFile()) {
    await handle.close();
    throw new UntrustedFileError(shown, kindOf(opened));
  }
  return handle;
}

/** The whole file, at most `maxBytes`; null when there is none. A larger file is an UntrustedFileError. */
export async function readUntrustedFile(root: string, relative: string, maxBytes: number): Promise<Buffer | null> {
  const handle = await openUntrustedFile(root, relative);
  if (handle === null) return null;
  try {
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) throw new UntrustedFileError(path.join(root, relative), `it is larger than the ${String(maxBytes)} bytes cspace reads of it`);
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

export async function readUntrustedText(root: string, relative: string, maxBytes: number): Promise<string | null> {
  return (await readUntrustedFile(root, relative, maxBytes))?.toString("utf8") ?? null;
}

/** The last `maxBytes` of a file that only grows (a log); null when there is none. */
export async function readUntrustedTail(root: string, relative: string, maxBytes: number): Promise<string | null> {
  const handle = await openUntrustedFile(root, relative);
  if (handle === null) return null;
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, size - length);
    return buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    await handle.close();
  }
}

/**
 * What is at `relative`, without following a link: null when nothing is
 * (a directory on the way missing included).
 */
export async function lstatUntrusted(root: string, relative: string): Promise<Stats | null> {
  const { dirs, name } = split(relative);
  return inDir(root, dirs, null, (dir) => lstat(dir.at(name)).catch(nullIfMissing));
}

/**
 * Replaces `relative` with `content`: written to a fresh file (O_EXCL,
 * O_NOFOLLOW) and renamed over the target, so a link planted there is
 * replaced, never written through, and a reader sees the old or the new.
 */
export async function writeUntrustedFile(root: string, relative: string, content: string | Uint8Array, mode: number): Promise<void> {
  const { dirs, name } = split(relative);
  const done = await inDir(root, dirs, false, async (dir) => {
    const temporary = `.${name}.${randomBytes(6).toString("hex")}.tmp`;
    let handle: FileHandle;
    try {
      handle = await open(dir.at(temporary), OPEN_NEW, mode);
    } catch (error) {
      throw new ExternalError(`cannot write ${path.join(dir.shown, name)}: ${messageOf(error)}`, { cause: error });
    }
    try {
      try {
        await handle.writeFile(content);
      } finally {
        await handle.close();
      }
      await rename(dir.at(temporary), dir.at(name));
    } catch (error) {
      await unlink(dir.at(temporary)).catch(() => undefined);
      throw new ExternalError(`cannot write ${path.join(dir.shown, name)}: ${messageOf(error)}`, { cause: error });
    }
    return true;
  });
  if (!done) throw new ExternalError(`cannot write ${path.join(root, relative)}: its directory does not exist`);
}

/** Removes the entry at `relative` (a link is removed, not followed); missing is fine. */
export async function removeUntrusted(root: string, relative: string): Promise<void> {
  const { dirs, name } = split(relative);
  await inDir(root, dirs, undefined, async (dir) => {
    await unlink(dir.at(name)).catch((error: unknown) => {
      if (codeOf(error) !== "ENOENT") throw new ExternalError(`cannot remove ${path.join(dir.shown, name)}: ${messageOf(error)}`, { cause: error });
    });
  });
}

/** The entries of a directory (their own types: a link is a link); empty when it does not exist. */
export async function listUntrusted(root: string, below: readonly string[] = []): Promise<Dirent[]> {
  return inDir(root, below, [], (dir) => readdir(dir.self, { withFileTypes: true }));
}

/**
 * Removes the symbolic links in the directory `root/below…` (a link is never
 * something cspace or its supervisor makes there: a worker planted it).
 * Returns their names.
 */
export async function removePlantedLinks(root: string, below: readonly string[] = []): Promise<string[]> {
  return inDir(root, below, [], async (dir) => {
    const links = (await readdir(dir.self, { withFileTypes: true })).filter((entry) => entry.isSymbolicLink()).map((entry) => entry.name);
    for (const name of links) await unlink(dir.at(name)).catch(() => undefined);
    return links;
  });
}

/** Makes the directory `root/below…/name` (mode `mode`) unless it is there; a link in its place is an UntrustedFileError. */
export async function ensureUntrustedDir(root: string, below: readonly string[], name: string, mode: number): Promise<void> {
  const made = await inDir(root, below, false, async (dir) => {
    // mkdir never follows a link at its last component: EEXIST, then the lstat tells what is there.
    await mkdir(dir.at(name), { mode }).catch((error: unknown) => {
      if (codeOf(error) !== "EEXIST") throw new ExternalError(`cannot create ${path.join(dir.shown, name)}: ${messageOf(error)}`, { cause: error });
    });
    const info = await lstat(dir.at(name));
    if (!info.isDirectory()) throw new UntrustedFileError(path.join(dir.shown, name), kindOf(info));
    return true;
  });
  if (!made) throw new ExternalError(`cannot create ${path.join(root, ...below, name)}: its directory does not exist`);
}

/**
 * Moves `fromDir/name` to `toDir/name` (both below `root`), each directory
 * opened without following links; false when the source is gone.
 */
export async function moveUntrusted(root: string, fromDir: readonly string[], toDir: readonly string[], name: string): Promise<boolean> {
  return inDir(root, fromDir, false, (from) =>
    inDir(root, toDir, false, async (to) => {
      try {
        await rename(from.at(name), to.at(name));
        return true;
      } catch (error) {
        if (codeOf(error) === "ENOENT") return false;
        throw new ExternalError(`cannot move ${path.join(from.shown, name)} to ${to.shown}: ${messageOf(error)}`, { cause: error });
      }
    }),
  );
}

function kindOf(info: Stats): string {
  if (info.isSymbolicLink()) return "it is a symbolic link";
  if (info.isFIFO()) return "it is a FIFO, not a regular file";
  if (info.isDirectory()) return "it is a directory, not a regular file";
  return "it is not a regular file";
}

function nullIfMissing(error: unknown): null {
  if (codeOf(error) === "ENOENT" || codeOf(error) === "ENOTDIR") return null;
  throw error;
}

function codeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const OPEN_APPEND = constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

/**
 * Writes `data` at `offset` of the regular file `relative`, which must be
 * exactly `offset` bytes long (the instance-directory mirror appends only
 * where its copy ends): opened without following a link, never created.
 */
export async function appendUntrustedAt(root: string, relative: string, offset: number, data: Uint8Array): Promise<void> {
  const { dirs, name } = split(relative);
  const done = await inDir(root, dirs, false, async (dir) => {
    const shown = path.join(dir.shown, name);
    let handle: FileHandle;
    try {
      handle = await open(dir.at(name), OPEN_APPEND);
    } catch (error) {
      if (codeOf(error) === "ELOOP") throw new UntrustedFileError(shown, "it is a symbolic link");
      throw new ExternalError(`cannot append to ${shown}: ${messageOf(error)}`, { cause: error });
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new UntrustedFileError(shown, kindOf(info));
      if (info.size !== offset) throw new UntrustedFileError(shown, `it is ${String(info.size)} bytes long, not the ${String(offset)} an append there expects`);
      for (let written = 0; written < data.length; ) {
        const { bytesWritten } = await handle.write(data, written, data.length - written, offset + written);
        written += bytesWritten;
      }
    } finally {
      await handle.close();
    }
    return true;
  });
  if (!done) throw new ExternalError(`cannot append to ${path.join(root, relative)}: its directory does not exist`);
}

/** Renames `from` to `to` (each below `root`, directories opened without following links), replacing what is at `to`; false when `from` is gone. */
export async function renameUntrusted(root: string, from: string, to: string): Promise<boolean> {
  const source = split(from);
  const target = split(to);
  return inDir(root, source.dirs, false, (fromDir) =>
    inDir(root, target.dirs, false, async (toDir) => {
      try {
        await rename(fromDir.at(source.name), toDir.at(target.name));
        return true;
      } catch (error) {
        if (codeOf(error) === "ENOENT") return false;
        throw new ExternalError(`cannot rename ${path.join(fromDir.shown, source.name)} to ${path.join(toDir.shown, target.name)}: ${messageOf(error)}`, { cause: error });
      }
    }),
  );
}
