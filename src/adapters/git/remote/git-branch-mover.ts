import { lstat } from "node:fs/promises";
import path from "node:path";
import type { BranchMover, ConflictQuery, MoveOptions, PushRequest, RestackRequest, RestackResult } from "../../../core/branches/port.ts";
import { ExternalError } from "../../../core/errors.ts";
import { validateInstanceName } from "../../../core/instances/names.ts";
import { assertBranchName } from "../../../core/plan/feature-branch.ts";
import { assertSha } from "../plumbing.ts";
import { mergeConflicts, restackConflicts } from "./conflicts.ts";
import { hostConfigFile } from "./host-git.ts";
import { pushWithLease } from "./push.ts";
import type { GitRemote } from "./remote.ts";
import { replayOnto } from "./replay.ts";
import { HostStore } from "./store.ts";
import { remoteHeads, talkToRemote } from "./talk.ts";

export interface GitBranchMoverOptions {
  readonly remote: GitRemote;
  /** The project's shared object store (`GitWorkspaces.storePath`): the workers' origin. */
  readonly store: string;
  /** A host directory of cspace's own: its git config and throwaway replay checkouts. */
  readonly scratchDir: string;
  /** The host path of an instance's checkout (`GitWorkspaces.pathOf`). */
  readonly checkoutOf: (instance: string) => string;
}

const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * The BranchMover port with real git on the host, for either forge: only
 * the remote differs (./remote.ts: a bare repository on disk;
 * ./github-remote.ts: HTTPS with the token in the child's environment).
 * Git runs in cspace's own repositories only (the store, throwaway replay
 * checkouts); a worker's checkout is only ever fetched from, because its
 * configuration is the agent's to write and could otherwise run commands
 * on the host or send the token elsewhere.
 */
export function createGitBranchMover(options: GitBranchMoverOptions): BranchMover {
  return new GitBranchMover(options);
}

class GitBranchMover implements BranchMover {
  readonly #options: GitBranchMoverOptions;
  #store: Promise<HostStore> | undefined;

  constructor(options: GitBranchMoverOptions) {
    this.#options = options;
  }

  async fetch(branches: readonly string[], options: MoveOptions = {}): Promise<ReadonlyMap<string, string | null>> {
    for (const branch of branches) assertBranchName(branch, "branch");
    const store = await this.#hostStore();
    const { remote } = this.#options;
    const unique = [...new Set(branches)];
    const listed = await remoteHeads(remote, this.#options.scratchDir, unique, options.signal);
    const present = unique.filter((branch) => listed.get(branch) !== null);
    return store.locked(async () => {
      if (present.length > 0) {
        const refspecs = present.flatMap((b) => [`+refs/heads/${b}:${HostStore.forgeRef(b)}`, `+refs/heads/${b}:refs/heads/${b}`]);
        const call = await talkToRemote(remote, store.dir, ["--git-dir", store.dir, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--", remote.url, ...refspecs], options);
        if (call.result.exitCode !== 0) throw call.fail(`fetch ${present.join(", ")}`);
      }
      // A branch gone from the remote (merged and deleted) must not answer later leases or predictions.
      const gone = unique.filter((branch) => listed.get(branch) === null);
      await store.updateRefs(gone.map((b) => `delete ${HostStore.forgeRef(b)}`), options.signal);
      const heads = new Map<string, string | null>();
      for (const branch of unique) heads.set(branch, listed.get(branch) === null ? null : await store.resolve(HostStore.forgeRef(branch)));
      return heads;
    }, options.signal);
  }

  async push(request: PushRequest, options: MoveOptions = {}): Promise<string> {
    const { instance, branch, expectedRemoteSha } = request;
    validateInstanceName(instance);
    assertBranchName(branch, "branch");
    if (expectedRemoteSha !== null) assertSha(expectedRemoteSha, "the expected remote sha");
    const checkout = this.#options.checkoutOf(instance);
    await requireOwnGitDirectory(checkout, instance);
    const store = await this.#hostStore();
    const sha = await store.locked(async () => {
      const fetched = await store.git(
        ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--", checkout, `+refs/heads/${branch}:${HostStore.workerRef(instance)}`],
        { okCodes: "any", signal: options.signal },
      );
      if (fetched.exitCode !== 0) {
        const missing = /couldn't find remote ref/i.test(fetched.stderr);
        throw new ExternalError(
          missing
            ? `the checkout of ${instance} (${checkout}) has no branch ${branch}: there is nothing to push`
            : `cannot read ${branch} from the checkout of ${instance} (${checkout}): ${fetched.stderr.trim()}`,
        );
      }
      return (await store.resolve(HostStore.workerRef(instance))) ?? "";
    }, options.signal);
    await pushWithLease(this.#options.remote, store.dir, { sha, branch, expected: expectedRemoteSha }, options.signal);
    await this.#record(store, branch, sha, options.signal);
    return sha;
  }

  async restack(request: RestackRequest, options: MoveOptions = {}): Promise<RestackResult> {
    const { branch, onto } = request;
    assertBranchName(branch, "branch");
    const oldParentHead = assertSha(request.oldParentHead, "the old parent head");
    const ontoIsSha = SHA.test(onto);
    if (!ontoIsSha) assertBranchName(onto, "onto");
    const heads = await this.fetch(ontoIsSha ? [branch] : [branch, onto], options);
    const store = await this.#hostStore();
    const head = heads.get(branch) ?? null;
    if (head === null) throw new ExternalError(`cannot restack ${branch}: it does not exist on ${this.#options.remote.description}`);
    const ontoSha = ontoIsSha ? await store.resolve(onto) : (heads.get(onto) ?? null);
    if (ontoSha === null) {
      throw new ExternalError(`cannot restack ${branch} onto ${onto}: ${ontoIsSha ? "that commit is not in the host's store" : "no such branch on the remote"}`, {
        hint: ontoIsSha ? "Fetch the branch the squash commit landed on first (BranchMover.fetch)." : undefined,
      });
    }
    if ((await store.resolve(oldParentHead)) === null || !(await store.isAncestor(oldParentHead, head))) {
      // Done before (a restack repeated after a crash): the branch sits on `onto` without the old parent's commits.
      if (await store.isAncestor(ontoSha, head)) return { ok: true, sha: head, changed: false };
      throw new ExternalError(`cannot restack ${branch} (${head}): it contains neither the old parent head ${oldParentHead} nor ${onto} (${ontoSha})`, {
        hint: "The branch was rewritten since its parent was recorded; ask its worker to rebase it.",
      });
    }
    const replayed = await replayOnto(store, this.#options.scratchDir, { branch, head, oldParentHead, onto: ontoSha }, options.signal);
    if (!replayed.ok) return replayed;
    if (replayed.sha === head) return { ok: true, sha: head, changed: false };
    await pushWithLease(this.#options.remote, store.dir, { sha: replayed.sha, branch, expected: head }, options.signal);
    await this.#record(store, branch, replayed.sha, options.signal);
    return { ok: true, sha: replayed.sha, changed: true };
  }

  async predictConflicts(query: ConflictQuery, options: MoveOptions = {}): Promise<readonly string[]> {
    const store = await this.#hostStore();
    const [head, onto] = await this.#resolveAll([query.branch, query.onto], options);
    const old = query.oldParentHead === undefined ? null : await store.resolve(assertSha(query.oldParentHead, "the old parent head"));
    if (old !== null && (await store.isAncestor(old, head))) return restackConflicts(store, head, old, onto, options.signal);
    return mergeConflicts(store, onto, head, options.signal);
  }

  /** Shas as they are; branch names as last fetched, fetching those never fetched. */
  async #resolveAll(revs: readonly [string, string], options: MoveOptions): Promise<[string, string]> {
    const store = await this.#hostStore();
    const resolve = (rev: string) => (SHA.test(rev) ? store.resolve(rev) : store.resolve(HostStore.forgeRef(assertBranchName(rev, "branch"))));
    let found = await Promise.all(revs.map(resolve));
    const missing = revs.filter((rev, i) => found[i] === null && !SHA.test(rev));
    if (missing.length > 0) {
      await this.fetch(missing, options);
      found = await Promise.all(revs.map(resolve));
    }
    const [a, b] = found;
    if (a === null || a === undefined || b === null || b === undefined) {
      const unknown = revs.filter((_rev, i) => found[i] === null || found[i] === undefined);
      throw new ExternalError(`cannot predict conflicts: ${unknown.join(" and ")} ${unknown.length > 1 ? "are" : "is"} neither a branch of the remote nor a commit in the host's store`);
    }
    return [a, b];
  }

  /** The remote's branch is now at `sha`: the store says so too, without asking the remote again. */
  async #record(store: HostStore, branch: string, sha: string, signal?: AbortSignal): Promise<void> {
    await store.locked(() => store.updateRefs([`update ${HostStore.forgeRef(branch)} ${sha}`, `update refs/heads/${branch} ${sha}`], signal), signal);
  }

  #hostStore(): Promise<HostStore> {
    this.#store ??= hostConfigFile(this.#options.scratchDir).then((config) => new HostStore(this.#options.store, config));
    return this.#store;
  }
}

/**
 * The checkout's `.git` must be a directory of its own: the agent may
 * replace it with a `gitdir:` file or a link pointing at any repository on
 * the host, whose branch the host would then read and push.
 */
async function requireOwnGitDirectory(checkout: string, instance: string): Promise<void> {
  const gitDir = path.join(checkout, ".git");
  const stats = await lstat(gitDir).catch(() => null);
  if (stats === null) throw new ExternalError(`the checkout of ${instance} is missing (${gitDir} does not exist)`, { hint: `Warm the instance again: cspace warm ${instance}.` });
  if (!stats.isDirectory()) throw new ExternalError(`refusing to push from ${instance}: ${gitDir} is not a directory (a link or a gitdir file points elsewhere)`);
}
