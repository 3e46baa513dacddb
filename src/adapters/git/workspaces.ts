import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { copyFile, lstat, mkdir, open, readdir, rename, rm, unlink, writeFile, type FileHandle } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ExternalError, UserError } from "../../core/errors.ts";
import { STORE_IN_CONTAINER, type Workspace, type WorkspaceStore } from "../../core/instances/ports.ts";
import { writeFileAtomic } from "../../shared/atomic-file.ts";
import { stderrNotice, withFileLock } from "../fs/file-lock.ts";
import { exists } from "../fs/exists.ts";
import { workTreeState } from "./bare-clone.ts";
import { defaultBranchOf } from "./repository.ts";
import { runGit, type GitResult } from "./run-git.ts";

/** A first fetch or checkout of a large history takes minutes; this only stops a git that hangs. */
const SLOW_GIT_MS = 30 * 60_000;
const STORE_LOCK_MS = 15 * 60_000;

/**
 * Where cspace keeps per-project data on the host: CSPACE_DATA_DIR, else
 * `$XDG_DATA_HOME/cspace`, else `~/.local/share/cspace`.
 */
export function dataDirFor(env: NodeJS.ProcessEnv): string {
  const explicit = env.CSPACE_DATA_DIR?.trim();
  if (explicit !== undefined && explicit !== "") return path.resolve(explicit);
  const xdg = env.XDG_DATA_HOME?.trim();
  if (xdg !== undefined && xdg !== "" && path.isAbsolute(xdg)) return path.join(xdg, "cspace");
  return path.join(env.HOME ?? os.homedir(), ".local", "share", "cspace");
}

/**
 * One bare object store per project (`<data>/<project>/objects.git`), fetched
 * from the user's repository, and per instance a checkout that borrows the
 * store's objects through `.git/objects/info/alternates`, naming the store
 * as the container sees it: mounted read-only at STORE_IN_CONTAINER, a path
 * a non-root user can reach. The checkout's own object directory holds only
 * what is written in it (the agent's commits); it costs about a checkout.
 *
 * Why: no object file may be writable by two containers, or by a container
 * and the store. A checkout made with `clone --local` hard-linked the
 * store's pack files, and root in a container writes any file of its
 * mount whatever its mode: a blob rewritten in place in one worker was read
 * by the store and by every other worker (one prompt-injected agent could
 * plant code in every other issue's checkout). Through a read-only mount
 * nothing in a container can write the store; copies (`--no-hardlinks`)
 * would cost the whole history in time and disk per instance.
 *
 * On the host the alternates name a path that is not there: cspace runs no
 * git in a checkout once made (the branch mover copies a worker's objects
 * out, ./remote/worker-snapshot.ts); anything that must, passes the store
 * with `storeEnvironment`. The store never prunes (gc.auto is 0, fetches
 * do not --prune): every checkout borrows from it.
 *
 * Why not alternates at the store's host path (`clone --shared`, the design
 * before last): the container needed the store mounted at that same path,
 * and under a data directory in /root (0700, as cspace running as root has
 * it) a non-root container user cannot reach it. Why not `git worktree
 * add`: a worktree's `.git` file and the store's `worktrees/<name>` entry
 * point at each other by absolute path, and git in the container would
 * write to the store through it.
 */
export class GitWorkspaces implements WorkspaceStore {
  readonly #projectDir: string;
  readonly #store: string;
  readonly #workspaces: string;
  /** Fetches into one store are serialised (here, and across processes by a lock file): concurrent ones would fight over ref locks. */
  #fetching: Promise<unknown> = Promise.resolve();

  constructor(options: { projectDir: string; dataDir: string; projectId: string }) {
    this.#projectDir = options.projectDir;
    this.#store = path.join(options.dataDir, options.projectId, "objects.git");
    this.#workspaces = path.join(options.dataDir, options.projectId, "workspaces");
  }

  get storePath(): string {
    return this.#store;
  }

  async checkoutConfig(base: string): Promise<Readonly<Record<string, string>>> {
    return { "cspace.base": base, ...(await this.#identity()) };
  }

  pathOf(instance: string): string {
    return path.join(this.#workspaces, instance);
  }

  async defaultBranch(): Promise<string> {
    await requireRepository(this.#projectDir);
    return defaultBranchOf(this.#projectDir);
  }

  async resolveBase(base: string, signal?: AbortSignal): Promise<string> {
    const fetched = this.#fetching.then(() => this.#fetch(signal));
    this.#fetching = fetched.catch(() => undefined);
    await fetched;
    for (const ref of [`refs/heads/${base}`, `refs/remotes/origin/${base}`, `refs/tags/${base}`]) {
      const found = await git(this.#store, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], { okCodes: "any" });
      if (found.exitCode === 0) return found.stdout.trim();
    }
    throw new UserError(`the base branch "${base}" does not exist in ${this.#projectDir}`, {
      hint: "Pass --base with an existing branch, or create the branch first.",
    });
  }

  /**
   * Another cspace process (a second `warm`, the coordinator) may fill the
   * same store at the same time: concurrent `git init`s and fetches fail on
   * each other's config and ref locks, so the store is locked across
   * processes. A first fetch of a large history can take minutes.
   */
  async #fetch(signal?: AbortSignal): Promise<void> {
    await mkdir(path.dirname(this.#store), { recursive: true });
    await withFileLock(`${this.#store}.lock`, () => this.#fetchLocked(signal), { timeoutMs: STORE_LOCK_MS, signal, onWait: stderrNotice });
  }

  async #fetchLocked(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    // Before the store exists: a project that is no repository must leave nothing behind.
    await requireRepository(this.#projectDir);
    if (!(await exists(path.join(this.#store, "HEAD")))) {
      await git(path.dirname(this.#store), ["init", "--quiet", "--bare", this.#store], { signal });
      await git(this.#store, ["config", "gc.auto", "0"], { signal });
    }
    await git(
      this.#store,
      ["fetch", "--quiet", "--no-tags", this.#projectDir, "+refs/heads/*:refs/heads/*", "+refs/remotes/origin/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"],
      { signal, timeoutMs: SLOW_GIT_MS },
    );
  }

  async create(instance: string, base: string, commit: string, signal?: AbortSignal): Promise<Workspace> {
    const dir = this.pathOf(instance);
    await this.remove(instance);
    await mkdir(this.#workspaces, { recursive: true });
    try {
      // The checkout's config is written by the clone itself: one git process fewer per setting.
      const config = await this.checkoutConfig(base);
      const configArgs = Object.entries(config).flatMap(([key, value]) => ["-c", `${key}=${value}`]);
      // Behind this process's fetches into the store (the commit may be what one brings); no file is shared, so no lock.
      const cloned = this.#fetching.then(() =>
        git(this.#workspaces, ["clone", "--quiet", "--shared", "--no-checkout", ...configArgs, "--", this.#store, dir], { signal, timeoutMs: SLOW_GIT_MS }),
      );
      this.#fetching = cloned.catch(() => undefined);
      await cloned;
      await git(dir, ["checkout", "--quiet", "-B", instance, commit], { signal, timeoutMs: SLOW_GIT_MS });
      // origin is the store as the container sees it (mounted read-only there): the host never fetches through it.
      await git(dir, ["remote", "set-url", "origin", STORE_IN_CONTAINER], { signal });
      // Last: from here on the checkout's objects are found only where the container mounts the store.
      await writeFile(path.join(dir, ".git", "objects", "info", "alternates"), `${STORE_OBJECTS_IN_CONTAINER}\n`);
    } catch (error) {
      await this.remove(instance);
      throw error;
    }
    return await this.#workspace(instance);
  }

  /**
   * What git on the host needs in its environment to read a checkout's
   * objects: the store in place of its mount in the container. Never used
   * by cspace on a worker's checkout (see the class comment); for tests and
   * tools that inspect one.
   */
  storeEnvironment(): Record<string, string> {
    return { GIT_ALTERNATE_OBJECT_DIRECTORIES: path.join(this.#store, "objects") };
  }

  /** The user's identity as their repository sees it (includes and all), so commits made inside are theirs. */
  async #identity(): Promise<Record<string, string>> {
    const found = await git(this.#projectDir, ["config", "--get-regexp", "^user\\.(name|email)$"], { okCodes: "any" });
    const identity: Record<string, string> = {};
    for (const line of found.stdout.split("\n")) {
      const space = line.indexOf(" ");
      // The last value wins, as for git config --get.
      if (space > 0 && line.slice(space + 1).trim() !== "") identity[line.slice(0, space)] = line.slice(space + 1).trim();
    }
    return identity;
  }

  async find(instance: string): Promise<Workspace | null> {
    return (await exists(path.join(this.pathOf(instance), ".git"))) ? await this.#workspace(instance) : null;
  }

  async remove(instance: string): Promise<boolean> {
    const dir = this.pathOf(instance);
    if (!(await exists(dir))) return false;
    try {
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch (error) {
      throw new ExternalError(`cannot remove the workspace ${dir}: ${messageOf(error)}`, { cause: error });
    }
    return true;
  }

  /**
   * The container's user must own the checkout: git refuses a repository
   * owned by someone else ("dubious ownership") and must write .git. Only a
   * root cspace can give files away; otherwise the uid must already match.
   * Files with more than one link are pack files a checkout made by an
   * older cspace (`clone --local`) shares with the store: they stay root's.
   */
  async handOver(workspace: Workspace, uid: number, gid: number): Promise<void> {
    const self = process.getuid?.();
    if (self === undefined || self === uid) return;
    if (self !== 0) {
      throw new UserError(`the container user (uid ${uid}) cannot use the workspace ${workspace.path}, which belongs to you (uid ${self})`, {
        hint: 'Use a container user with your uid (set "remoteUser"/"containerUser" in devcontainer.json), or run cspace as root.',
      });
    }
    const owner = `${String(uid)}:${String(gid)}`;
    await new Promise<void>((resolve, reject) => {
      execFile("find", [workspace.path, "!", "(", "-type", "f", "-links", "+1", ")", "-exec", "chown", "-h", owner, "{}", "+"], (error, _stdout, stderr) => {
        if (error === null) resolve();
        else reject(new ExternalError(`cannot give ${workspace.path} to uid ${String(uid)}: ${stderr.trim() || error.message}`, { cause: error }));
      });
    });
  }

  async sharedObjectFiles(instance: string): Promise<number> {
    return (await this.#linkedObjectFiles(instance)).length;
  }

  async borrowStore(instance: string): Promise<void> {
    const objects = await this.#objectsDir(instance);
    // No checkout of its own to move (gone, or its .git a link out of it): validate finds it unusable and it is made afresh.
    if (objects === null) return;
    const storeObjects = path.join(this.#store, "objects");
    for (const file of await this.#linkedObjectFiles(instance)) {
      const relative = path.relative(objects, file);
      const [mine, stores] = await Promise.all([lstat(file), lstat(path.join(storeObjects, relative)).catch(() => null)]);
      if (stores !== null && stores.ino === mine.ino && stores.dev === mine.dev) {
        // The store's own file under the same name: borrowed from the store's mount from now on.
        await unlink(file);
      } else {
        // Linked with something that is not the store's file of that name (another checkout): kept, as a copy of its own.
        const copy = `${file}.cspace-copy`;
        await copyFile(file, copy);
        await rename(copy, file);
      }
    }
    // objects/info is the agent's too: anything there but a directory (a link out of the checkout) is replaced by one.
    const info = path.join(objects, "info");
    if ((await lstat(info).catch(() => null))?.isDirectory() !== true) await rm(info, { force: true });
    await mkdir(info, { recursive: true });
    writeFileAtomic(path.join(objects, "info", "alternates"), `${STORE_OBJECTS_IN_CONTAINER}\n`, { mode: 0o644 });
  }

  /**
   * The checkout's object files with more than one link: what `clone
   * --local` shared with the store. The checkout is the agent's: no link is
   * followed (a `.git` or `objects` that is a symlink holds nothing of the
   * checkout's), so nothing outside it is ever counted, or unlinked.
   */
  async #linkedObjectFiles(instance: string): Promise<string[]> {
    const objects = await this.#objectsDir(instance);
    if (objects === null) return [];
    const found: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const at = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(at);
        else if (entry.isFile() && (await lstat(at)).nlink > 1) found.push(at);
      }
    };
    await walk(objects);
    return found;
  }

  /** The checkout's `.git/objects`, when it and every folder on the way are real folders (no link); else null. */
  async #objectsDir(instance: string): Promise<string | null> {
    const git = path.join(this.pathOf(instance), ".git");
    const objects = path.join(git, "objects");
    for (const dir of [this.pathOf(instance), git, objects]) {
      const stats = await lstat(dir).catch(() => null);
      if (stats === null || !stats.isDirectory()) return null;
    }
    return objects;
  }

  async #workspace(instance: string): Promise<Workspace> {
    const dir = this.pathOf(instance);
    const origin = { source: this.#store, target: STORE_IN_CONTAINER };
    // A checkout made by an older cspace with --shared borrows the store's objects at the store's host path.
    const borrowsAtHostPath = (await smallFileText(path.join(dir, ".git", "objects", "info", "alternates"))).includes(path.join(this.#store, "objects"));
    return { instance, path: dir, supportMounts: borrowsAtHostPath ? [origin, { source: this.#store, target: this.#store }] : [origin] };
  }
}

/** What git inside a container finds in a checkout's alternates: the store's objects, mounted read-only. */
const STORE_OBJECTS_IN_CONTAINER = path.posix.join(STORE_IN_CONTAINER, "objects");

/**
 * A small file of a checkout as text; "" when it is missing or not a plain
 * file. The checkout is the agent's to write: no link is followed and a FIFO
 * does not block.
 */
async function smallFileText(file: string): Promise<string> {
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return "";
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile() || stats.size > 64 * 1024) return "";
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}

function git(cwd: string, args: readonly string[], options: { signal?: AbortSignal | undefined; okCodes?: "any"; timeoutMs?: number } = {}): Promise<GitResult> {
  return runGit(args, { cwd, ...options });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Workspaces are checkouts of the project's commits: refused (exit 2) before anything is made when it has none. */
async function requireRepository(projectDir: string): Promise<void> {
  const state = await workTreeState(projectDir);
  if (state.kind === "none") {
    throw new UserError(`${projectDir} is not a git repository: cspace makes each instance's workspace from the project's commits`, {
      hint: "Run `git init && git add -A && git commit -m init` there, or run cspace in your project's repository.",
    });
  }
  if (state.kind === "no-commits") {
    throw new UserError(`the repository ${state.top} has no commits yet: there is nothing to check out in a workspace`, {
      hint: "Commit something first (git add -A && git commit -m init).",
    });
  }
}
