import { mkdir } from "node:fs/promises";
import path from "node:path";
import { withFileLock } from "../../fs/file-lock.ts";
import { exists } from "../../fs/exists.ts";
import type { GitResult } from "../run-git.ts";
import { localGit, type HostGitOptions } from "./host-git.ts";

const STORE_LOCK_MS = 15 * 60_000;

/**
 * The project's shared object store (`GitWorkspaces.storePath`), as the
 * branch mover uses it. Workers' checkouts are cloned from it, so it is
 * their `origin`; the mover keeps in it:
 * - `refs/remotes/forge/<branch>`: the remote's branches as last fetched or
 *   pushed. Only the mover writes them, so a lease or a prediction never
 *   reads a ref something else moved (the workspaces refresh `refs/heads/*`
 *   from the user's repository);
 * - `refs/heads/<branch>`: the same, so a checkout that fetches its origin
 *   sees the remote's branches as `origin/<branch>`;
 * - `refs/cspace/workers/<instance>`: a worker's branch as last taken from its checkout.
 * Writes take the store's lock file, the one GitWorkspaces takes for its
 * fetches and clones (a clone links pack files a fetch may be renaming).
 */
export class HostStore {
  readonly dir: string;
  readonly configFile: string;
  /** In-process queue in front of the lock file, so this process never polls for its own lock. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(dir: string, configFile: string) {
    this.dir = dir;
    this.configFile = configFile;
  }

  static forgeRef(branch: string): string {
    return `refs/remotes/forge/${branch}`;
  }

  static workerRef(instance: string): string {
    return `refs/cspace/workers/${instance}`;
  }

  git(args: readonly string[], options: HostGitOptions = {}): Promise<GitResult> {
    return localGit(this.configFile, this.dir, ["--git-dir", this.dir, ...args], options);
  }

  /** Runs `work` holding the store's lock; creates the store first when it does not exist yet. */
  locked<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const run = this.#queue.then(() =>
      withFileLock(
        `${this.dir}.lock`,
        async () => {
          await this.#ensure(signal);
          return work();
        },
        { timeoutMs: STORE_LOCK_MS, signal },
      ),
    );
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** The commit `rev` names in the store, or null. */
  async resolve(rev: string): Promise<string | null> {
    if (!(await exists(path.join(this.dir, "HEAD")))) return null;
    const result = await this.git(["rev-parse", "--verify", "--quiet", "--end-of-options", `${rev}^{commit}`], { okCodes: "any" });
    return result.exitCode === 0 ? result.stdout.trim() : null;
  }

  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    return (await this.git(["merge-base", "--is-ancestor", ancestor, descendant], { okCodes: [0, 1] })).exitCode === 0;
  }

  /** Applies `update-ref --stdin` lines (`update <ref> <sha>`, `delete <ref>`) in one transaction. */
  async updateRefs(lines: readonly string[], signal?: AbortSignal): Promise<void> {
    if (lines.length === 0) return;
    await this.git(["update-ref", "-m", "cspace branch mover", "--stdin"], { input: `${lines.join("\n")}\n`, signal });
  }

  /** Same layout as GitWorkspaces makes it: whichever comes first creates it. */
  async #ensure(signal?: AbortSignal): Promise<void> {
    if (await exists(path.join(this.dir, "HEAD"))) return;
    await mkdir(path.dirname(this.dir), { recursive: true });
    await localGit(this.configFile, path.dirname(this.dir), ["init", "--quiet", "--bare", this.dir], { signal });
    await this.git(["config", "gc.auto", "0"], { signal });
  }
}
