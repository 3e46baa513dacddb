import { execFile } from "node:child_process";
import { mkdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ExternalError, UserError } from "../../core/errors.ts";
import { STORE_IN_CONTAINER, type Workspace, type WorkspaceStore } from "../../core/instances/ports.ts";
import { withFileLock } from "../fs/file-lock.ts";
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
 * from the user's repository, and per instance a self-contained checkout made
 * with `git clone --local --no-checkout` from it plus one checkout. A local
 * clone hard-links the store's pack files (the store and the workspaces are
 * both under the data directory, so on one filesystem; git copies when they
 * are not), so no object is copied and it costs about a checkout, like
 * `--shared` did. The user's repository is only read.
 *
 * Why not `--shared` (borrowing the store's objects through
 * `.git/objects/info/alternates`): the alternates file holds the store's
 * absolute host path, so the container needed the store mounted at that same
 * path, and under a data directory in /root (0700, as cspace running as root
 * has it) a non-root container user cannot reach it: git inside failed with
 * "bad object HEAD". A hard-linked checkout needs nothing outside itself to
 * work. The store is still mounted read-only at STORE_IN_CONTAINER, a path a
 * non-root user can reach, as the checkout's `origin`: agents fetch the
 * branches cspace brought in from there (a rebase onto a new base).
 * Why not `git worktree add`: a worktree's `.git` file and the store's
 * `worktrees/<name>` entry point at each other by absolute path, and git in
 * the container would write to the store through it.
 *
 * The links share inodes with the store, which matters in two places. Git
 * never writes into an existing pack (it writes new files and renames them),
 * so ordinary use by either side cannot change the other's objects. And a
 * root cspace hands the checkout to the container user without the shared
 * files (`handOver`), so they stay root's and read-only to that user. A
 * container user with the host user's uid owns them already and could chmod
 * one and rewrite it on purpose; git would read the altered pack in later
 * checkouts. The store never prunes (gc.auto is 0, fetches do not --prune):
 * checkouts of older cspace versions still borrow from it through
 * alternates, and a repack while a clone links the pack files would race it.
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
    await withFileLock(`${this.#store}.lock`, () => this.#fetchLocked(signal), { timeoutMs: STORE_LOCK_MS, signal });
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
      const config = { "cspace.base": base, ...(await this.#identity()) };
      await this.#cloneStore(dir, Object.entries(config).flatMap(([key, value]) => ["-c", `${key}=${value}`]), signal);
      await git(dir, ["checkout", "--quiet", "-B", instance, commit], { signal, timeoutMs: SLOW_GIT_MS });
      // origin is the store as the container sees it (mounted read-only there): the host never fetches through it.
      await git(dir, ["remote", "set-url", "origin", STORE_IN_CONTAINER], { signal });
    } catch (error) {
      await this.remove(instance);
      throw error;
    }
    return await this.#workspace(instance);
  }

  /**
   * The clone lists the store's pack directory and links each file: a fetch
   * from another process, finishing meanwhile, renames its temporary pack
   * under it. So the clone takes the store's lock; in this process it also
   * queues behind the fetches, rather than poll for the lock.
   */
  async #cloneStore(dir: string, configArgs: readonly string[], signal?: AbortSignal): Promise<void> {
    const args = ["clone", "--quiet", "--local", "--no-checkout", ...configArgs, "--", this.#store, dir];
    const cloned = this.#fetching.then(() =>
      withFileLock(`${this.#store}.lock`, () => git(this.#workspaces, args, { signal, timeoutMs: SLOW_GIT_MS }), {
        timeoutMs: STORE_LOCK_MS,
        signal,
      }),
    );
    this.#fetching = cloned.catch(() => undefined);
    await cloned;
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
   * Files with more than one link are the pack files shared with the store
   * (a checkout writes none of its own that way): they stay root's, 0444,
   * which git inside only needs to read, so that user cannot rewrite the
   * store's objects (nor other instances') through them. Their directory is
   * the user's, so git inside may still add packs and drop its own links.
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

  async #workspace(instance: string): Promise<Workspace> {
    const dir = this.pathOf(instance);
    // A checkout made by an older cspace with --shared still borrows the store's objects, at the store's host path.
    const borrows = await exists(path.join(dir, ".git", "objects", "info", "alternates"));
    const origin = { source: this.#store, target: STORE_IN_CONTAINER };
    return { instance, path: dir, supportMounts: borrows ? [origin, { source: this.#store, target: this.#store }] : [origin] };
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
