import { mkdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { ExternalError, UserError } from "../../core/errors.ts";
import type { Workspace, WorkspaceStore } from "../../core/instances/ports.ts";
import { withFileLock } from "../fs/file-lock.ts";
import { exists } from "../fs/exists.ts";
import { workTreeState } from "./bare-clone.ts";
import { defaultBranchOf } from "./repository.ts";

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
 * from the user's repository, and per instance a checkout made with
 * `git clone --shared --no-checkout` from it plus one checkout: no objects are
 * copied, so it costs about a checkout. The user's repository is only read.
 *
 * Why --shared and not `git worktree add`: a worktree's `.git` file and the
 * store's `worktrees/<name>` entry point at each other by absolute path, and
 * git inside the container writes to the store (index, HEAD, logs) through
 * it, so the store could not be mounted read-only. With --shared the checkout
 * owns its own refs, index and new objects, and only reads the store through
 * `.git/objects/info/alternates`, which holds the store's absolute host path.
 * The container therefore gets the store bind-mounted read-only at that same
 * path (`supportMounts`), and git works inside as on the host. Because
 * checkouts borrow the store's objects, the store never prunes: gc.auto is 0
 * and fetches do not --prune.
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
      const found = await git(this.#store, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], { reject: false });
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
    await withFileLock(`${this.#store}.lock`, () => this.#fetchLocked(signal), { timeoutMs: 15 * 60_000 });
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
      { signal },
    );
  }

  async create(instance: string, base: string, commit: string, signal?: AbortSignal): Promise<Workspace> {
    const dir = this.pathOf(instance);
    await this.remove(instance);
    await mkdir(this.#workspaces, { recursive: true });
    try {
      await git(this.#workspaces, ["clone", "--quiet", "--shared", "--no-checkout", this.#store, dir], { signal });
      await git(dir, ["checkout", "--quiet", "-B", instance, commit], { signal });
      await git(dir, ["config", "cspace.base", base], { signal });
      for (const key of ["user.name", "user.email"]) {
        // The user's identity (from their repository's view of config), so commits made inside are theirs.
        const value = await git(this.#projectDir, ["config", "--get", key], { reject: false });
        if (value.exitCode === 0 && value.stdout.trim() !== "") await git(dir, ["config", key, value.stdout.trim()], { signal });
      }
    } catch (error) {
      await this.remove(instance);
      throw error;
    }
    return this.#workspace(instance);
  }

  async find(instance: string): Promise<Workspace | null> {
    return (await exists(path.join(this.pathOf(instance), ".git"))) ? this.#workspace(instance) : null;
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
   */
  async handOver(workspace: Workspace, uid: number, gid: number): Promise<void> {
    const self = process.getuid?.();
    if (self === undefined || self === uid) return;
    if (self !== 0) {
      throw new UserError(`the container user (uid ${uid}) cannot use the workspace ${workspace.path}, which belongs to you (uid ${self})`, {
        hint: 'Use a container user with your uid (set "remoteUser"/"containerUser" in devcontainer.json), or run cspace as root.',
      });
    }
    const result = await execa("chown", ["-R", `${uid}:${gid}`, workspace.path], { reject: false });
    if (result.exitCode !== 0) throw new ExternalError(`cannot give ${workspace.path} to uid ${uid}: ${result.stderr}`);
  }

  #workspace(instance: string): Workspace {
    return { instance, path: this.pathOf(instance), supportMounts: [{ source: this.#store, target: this.#store }] };
  }
}

async function git(cwd: string, args: readonly string[], options: { signal?: AbortSignal | undefined; reject?: boolean } = {}) {
  const result = await execa("git", args, { cwd, reject: false, cancelSignal: options.signal, stdin: "ignore" });
  if (options.reject !== false && result.exitCode !== 0) {
    options.signal?.throwIfAborted();
    throw new ExternalError(`git ${args.join(" ")} failed in ${cwd}: ${result.stderr.trim() || `exit ${String(result.exitCode)}`}`);
  }
  return result;
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
