import { constants, createWriteStream, existsSync } from "node:fs";
import { mkdir, open, readdir, writeFile, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { ExternalError } from "../../../core/errors.ts";
import { localGit } from "./host-git.ts";

/**
 * Takes a worker's branch out of its checkout without letting the worker
 * choose what the host reads.
 *
 * A worker's `.git` is the agent's to write. Git run by the host in it (the
 * upload-pack of a `git fetch <checkout>`) follows whatever the agent left
 * there: `objects/info/alternates` naming another instance's checkout or
 * any repository on the host, a `commondir` file, a symlinked `objects/pack`
 * or `refs`. The objects found through them would be copied into the store
 * and pushed to the forge: a way to publish what the worker was never given.
 * GIT_ALTERNATE_OBJECT_DIRECTORIES only adds directories, and no option
 * makes git ignore a repository's alternates.
 *
 * So the host never runs git in a checkout. It copies the checkout's own
 * objects (loose objects and packs; a checkout borrows the store's objects,
 * so these are the agent's own, small) and the branch's sha into a
 * throwaway repository of its own whose only alternate is the store, and
 * the store fetches from that. Nothing else of the checkout is read: not its
 * alternates, config, commondir, shallow file or other refs. Every step
 * opens one name inside a directory already open, never following a link
 * (`/proc/self/fd/<fd>/<name>` with O_NOFOLLOW: an openat), so replacing a
 * directory with a link meanwhile does not redirect the walk; only regular
 * files are read (a FIFO would block, a device would never end).
 *
 * The content is still the worker's: the fetch that follows hashes every
 * object it receives and checks the branch's history is complete, as any
 * fetch from an untrusted server does. A corrupt or missing object fails the
 * push; it cannot become another object.
 */

/** Where `rev-parse` would stop reading a loose ref: a sha and a newline. */
const REF_MAX_BYTES = 256;
/** packed-refs of a checkout holds its branches and tags; a large repository's is a few MB. */
const PACKED_REFS_MAX_BYTES = 64 * 1024 * 1024;
const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const LOOSE_DIR = /^[0-9a-f]{2}$/;
const LOOSE_OBJECT = /^[0-9a-f]{38}(?:[0-9a-f]{24})?$/;
const PACK_FILE = /^pack-[0-9a-f]{40,64}\.(?:pack|idx)$/;

/** `/proc/self/fd` resolves an open directory without looking its path up again (Linux). */
const BY_DESCRIPTOR = existsSync("/proc/self/fd");

interface OpenDir {
  readonly handle: FileHandle;
  /** How to name an entry inside it: through the descriptor where the platform allows. */
  readonly inside: (name: string) => string;
  /** For messages: the path as the checkout has it. */
  readonly shown: string;
}

export interface WorkerSnapshot {
  /** The throwaway repository: `refs/heads/<branch>` at `sha`, the checkout's own objects, the store as its alternate. */
  readonly repo: string;
  readonly sha: string;
}

/**
 * Copies `branch` of the checkout at `checkout` into a new repository at
 * `into` (which must not exist), borrowing `storeObjects`. Throws an
 * ExternalError naming what was refused or missing.
 */
export async function snapshotWorkerBranch(
  options: { readonly checkout: string; readonly branch: string; readonly into: string; readonly storeObjects: string; readonly configFile: string; readonly instance: string },
  signal?: AbortSignal,
): Promise<WorkerSnapshot> {
  const { checkout, branch, into, instance } = options;
  const opened: OpenDir[] = [];
  const openDir = async (parent: OpenDir | null, name: string): Promise<OpenDir | null> => {
    const at = parent === null ? name : parent.inside(name);
    const shown = parent === null ? name : path.join(parent.shown, name);
    let handle: FileHandle;
    try {
      handle = await open(at, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    } catch (error) {
      if (codeOf(error) === "ENOENT") return null;
      throw refused(instance, `${shown} is not a directory of its own (${codeOf(error) ?? "unreadable"}): a link or a file stands where git keeps one`);
    }
    const dir: OpenDir = { handle, shown, inside: (entry) => (BY_DESCRIPTOR ? `/proc/self/fd/${String(handle.fd)}/${entry}` : path.join(at, entry)) };
    opened.push(dir);
    return dir;
  };
  try {
    // The checkout directory itself is the container's mount point and cspace's path: only what is under it is the worker's.
    const top = await openDir(null, checkout);
    if (top === null) throw new ExternalError(`the checkout of ${instance} is missing (${checkout} does not exist)`, { hint: `Warm the instance again: cspace warm ${instance}.` });
    const gitDir = await openDir(top, ".git");
    if (gitDir === null) throw new ExternalError(`the checkout of ${instance} is missing (${path.join(checkout, ".git")} does not exist)`, { hint: `Warm the instance again: cspace warm ${instance}.` });
    const sha = await branchSha(gitDir, branch, openDir, instance);
    if (sha === null) throw new ExternalError(`the checkout of ${instance} (${checkout}) has no branch ${branch}: there is nothing to push`);

    await localGit(options.configFile, path.dirname(into), ["init", "--quiet", "--bare", into], { signal });
    const objects = await openDir(gitDir, "objects");
    if (objects !== null) await copyObjects(objects, path.join(into, "objects"), openDir, instance);
    await writeFile(path.join(into, "objects", "info", "alternates"), `${options.storeObjects}\n`);
    const updated = await localGit(options.configFile, into, ["--git-dir", into, "update-ref", `refs/heads/${branch}`, sha], { okCodes: "any", signal });
    if (updated.exitCode !== 0) {
      throw new ExternalError(`cannot read ${branch} from the checkout of ${instance} (${checkout}): its commit ${sha} is neither in the checkout's objects nor in the store (${updated.stderr.trim()})`);
    }
    return { repo: into, sha };
  } finally {
    await Promise.all(opened.map((dir) => dir.handle.close()));
  }
}

type DirOpener = (parent: OpenDir | null, name: string) => Promise<OpenDir | null>;

/** The branch's sha from its loose ref, else from packed-refs; null when it has neither. A symbolic ref is refused. */
async function branchSha(gitDir: OpenDir, branch: string, openDir: DirOpener, instance: string): Promise<string | null> {
  const components = ["refs", "heads", ...branch.split("/")];
  const leaf = components.pop() ?? branch;
  let dir: OpenDir | null = gitDir;
  for (const component of components) {
    dir = await openDir(dir, component);
    if (dir === null) break;
  }
  if (dir !== null) {
    const loose = await readRegular(dir, leaf, REF_MAX_BYTES, instance);
    if (loose !== null) {
      const sha = loose.toString("utf8").trim();
      if (!SHA.test(sha)) throw refused(instance, `${path.join(dir.shown, leaf)} holds no sha (a symbolic ref, or something else)`);
      return sha;
    }
  }
  const packed = await readRegular(gitDir, "packed-refs", PACKED_REFS_MAX_BYTES, instance);
  if (packed === null) return null;
  const wanted = `refs/heads/${branch}`;
  for (const line of packed.toString("utf8").split("\n")) {
    const [sha, ref] = line.trim().split(" ");
    if (ref === wanted && sha !== undefined && SHA.test(sha)) return sha;
  }
  return null;
}

/** Loose objects (`xx/yyyy…`) and packs (`.pack` and `.idx`) into `target`; every other entry is left unread. */
async function copyObjects(objects: OpenDir, target: string, openDir: DirOpener, instance: string): Promise<void> {
  for (const name of await entries(objects)) {
    if (LOOSE_DIR.test(name)) {
      const dir = await openDir(objects, name);
      if (dir === null) continue;
      const names = (await entries(dir)).filter((entry) => LOOSE_OBJECT.test(entry));
      if (names.length === 0) continue;
      await mkdir(path.join(target, name), { recursive: true });
      for (const entry of names) await copyRegular(dir, entry, path.join(target, name, entry), instance);
    } else if (name === "pack") {
      const dir = await openDir(objects, name);
      if (dir === null) continue;
      await mkdir(path.join(target, "pack"), { recursive: true });
      for (const entry of (await entries(dir)).filter((e) => PACK_FILE.test(e))) await copyRegular(dir, entry, path.join(target, "pack", entry), instance);
    }
  }
}

function entries(dir: OpenDir): Promise<string[]> {
  return readdir(dir.inside("."));
}

/** Opens a regular file inside `dir` without following a link or blocking on a FIFO; null when it does not exist. */
async function openRegular(dir: OpenDir, name: string, instance: string): Promise<{ handle: FileHandle; size: number } | null> {
  let handle: FileHandle;
  try {
    handle = await open(dir.inside(name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (codeOf(error) === "ENOENT") return null;
    throw refused(instance, `${path.join(dir.shown, name)} cannot be opened as a file of its own (${codeOf(error) ?? "unreadable"}): a link stands there`);
  }
  const stats = await handle.stat();
  if (!stats.isFile()) {
    await handle.close();
    throw refused(instance, `${path.join(dir.shown, name)} is not a regular file`);
  }
  return { handle, size: stats.size };
}

async function readRegular(dir: OpenDir, name: string, maxBytes: number, instance: string): Promise<Buffer | null> {
  const file = await openRegular(dir, name, instance);
  if (file === null) return null;
  try {
    if (file.size > maxBytes) throw refused(instance, `${path.join(dir.shown, name)} is ${String(file.size)} bytes, more than git ever writes there`);
    return await file.handle.readFile();
  } finally {
    await file.handle.close();
  }
}

async function copyRegular(dir: OpenDir, name: string, target: string, instance: string): Promise<void> {
  const file = await openRegular(dir, name, instance);
  if (file === null) return;
  // The stream closes the handle when it ends or fails.
  await pipeline(file.handle.createReadStream(), createWriteStream(target, { flags: "wx", mode: 0o444 }));
}

function refused(instance: string, why: string): ExternalError {
  return new ExternalError(`refusing to push from ${instance}: ${why}`, { hint: "The agent changed its checkout's .git in a way git itself never does; warm the instance again (cspace warm --reset) and retry." });
}

function codeOf(error: unknown): string | undefined {
  return error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : undefined;
}
