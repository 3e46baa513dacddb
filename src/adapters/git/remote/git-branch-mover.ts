import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import type { BranchMover, CommitRange, CommitSummary, ConflictQuery, HunksQuery, LandingPreparation, LandingRequest, MoveOptions, PushRequest, RestackRequest, RestackResult } from "../../../core/branches/port.ts";
import { ExternalError } from "../../../core/errors.ts";
import { validateInstanceName } from "../../../core/instances/names.ts";
import { assertBranchName } from "../../../core/plan/feature-branch.ts";
import { assertSha } from "../plumbing.ts";
import { mergeConflictHunks, mergeConflicts, restackConflicts } from "./conflicts.ts";
import { hostConfigFile } from "./host-git.ts";
import { prepareLandingIn, treeIn } from "./landing.ts";
import { pushWithLease } from "./push.ts";
import type { GitRemote } from "./remote.ts";
import { replayOnto } from "./replay.ts";
import { HostStore } from "./store.ts";
import { remoteHeads, talkToRemote } from "./talk.ts";
import { snapshotWorkerBranch } from "./worker-snapshot.ts";

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
 * checkouts and push snapshots): a worker's checkout is never a repository
 * git opens on the host, because everything in its `.git` (configuration,
 * alternates, links) is the agent's to write; its objects are copied out
 * (./worker-snapshot.ts) and fetched from cspace's own copy.
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
    const store = await this.#hostStore();
    const sha =
      request.collected === undefined
        ? await this.#takeFromCheckout(store, instance, this.#options.checkoutOf(instance), branch, options.signal)
        : await this.#takeCollected(store, instance, branch, request.collected, options.signal);
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

  async commitsBetween(query: CommitRange, options: MoveOptions = {}): Promise<readonly CommitSummary[]> {
    const store = await this.#hostStore();
    const [base, head] = await this.#resolveAll([query.base, query.head], options);
    const limit = Math.max(0, Math.floor(query.limit));
    if (limit === 0) return [];
    const log = await store.git(["log", "--no-decorate", `--max-count=${String(limit)}`, "--format=%H%x09%P%x09%s", `${base}..${head}`, "--"], { signal: options.signal });
    return log.stdout
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line) => {
        const [sha = "", parents = "", ...title] = line.split("\t");
        return { sha, title: title.join("\t"), parent: parents.split(" ")[0] || null };
      });
  }

  async prepareLanding(request: LandingRequest, options: MoveOptions = {}): Promise<LandingPreparation> {
    assertBranchName(request.base, "base");
    assertBranchName(request.headBranch, "the head's branch");
    const head = assertSha(request.head, "the head");
    const since = request.since === null ? null : assertSha(request.since, "the branch's base");
    const tip = (await this.fetch([request.base, request.headBranch], options)).get(request.base) ?? null;
    if (tip === null) throw new ExternalError(`cannot verify what would land on ${request.base}: no such branch on ${this.#options.remote.description}`);
    const ahead = (request.ahead ?? []).map((car) => ({ head: assertSha(car.head, "a car ahead in the train"), label: car.label }));
    const store = await this.#hostStore();
    for (const commit of [...ahead.map((car) => car.head), head]) {
      if ((await store.resolve(commit)) === null) throw new ExternalError(`cannot verify what would land on ${request.base}: the host's store has no commit ${commit}`);
    }
    return prepareLandingIn(store, tip, head, since, options.signal, ahead);
  }

  async treeOf(commit: string, options: MoveOptions = {}): Promise<string | null> {
    return treeIn(await this.#hostStore(), assertSha(commit, "the commit"), options.signal);
  }

  async readWork(instance: string, branch: string, options: MoveOptions = {}): Promise<string | null> {
    validateInstanceName(instance);
    assertBranchName(branch, "branch");
    const store = await this.#hostStore();
    try {
      return await this.#takeFromCheckout(store, instance, this.#options.checkoutOf(instance), branch, options.signal);
    } catch (error) {
      // No such branch, or a checkout the worker broke: either way there is no work to read now.
      if (error instanceof ExternalError) return null;
      throw error;
    }
  }

  async conflictHunks(query: HunksQuery, maxChars: number, options: MoveOptions = {}): Promise<string> {
    const store = await this.#hostStore();
    const [head, onto] = await this.#resolveAll([query.branch, query.onto], options);
    return mergeConflictHunks(store, onto, head, maxChars, options.signal, query.paths);
  }

  async changedPaths(query: ConflictQuery, options: MoveOptions = {}): Promise<readonly string[]> {
    const store = await this.#hostStore();
    const [head, onto] = await this.#resolveAll([query.branch, query.onto], options);
    const diff = await store.git(["diff", "--name-only", "--no-renames", "-z", `${onto}...${head}`], { signal: options.signal });
    return diff.stdout.split("\0").filter((path) => path !== "").sort();
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

  /**
   * The worker's branch into the store as `refs/cspace/workers/<instance>`,
   * through a snapshot of the checkout's own objects (./worker-snapshot.ts):
   * git on the host never runs in the checkout, whose alternates, config and
   * links are the agent's to write.
   */
  async #takeFromCheckout(store: HostStore, instance: string, checkout: string, branch: string, signal?: AbortSignal): Promise<string> {
    await mkdir(this.#options.scratchDir, { recursive: true });
    const into = path.join(this.#options.scratchDir, `push-${String(process.pid)}-${randomBytes(4).toString("hex")}`);
    try {
      const snapshot = await snapshotWorkerBranch({ checkout, branch, into, instance, storeObjects: path.join(store.dir, "objects"), configFile: store.configFile }, signal);
      return await store.locked(async () => {
        const ref = HostStore.workerRef(instance);
        const fetched = await store.git(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--", snapshot.repo, `+refs/heads/${branch}:${ref}`], { okCodes: "any", signal });
        if (fetched.exitCode !== 0) throw new ExternalError(`cannot read ${branch} from the checkout of ${instance} (${checkout}): ${fetched.stderr.trim()}`);
        return (await store.resolve(ref)) ?? "";
      }, signal);
    } finally {
      await rm(into, { recursive: true, force: true });
    }
  }

  /**
   * A remote worker's branch into the store as `refs/cspace/workers/<instance>`,
   * from the quarantine the workspace transport collected it into: a
   * repository of cspace's own (its config, no hooks, the store its only
   * alternate), not the worker's, so git may fetch from it directly.
   */
  async #takeCollected(store: HostStore, instance: string, branch: string, collected: { readonly repository: string; readonly sha: string }, signal?: AbortSignal): Promise<string> {
    const expected = assertSha(collected.sha, "the collected sha");
    return store.locked(async () => {
      const ref = HostStore.workerRef(instance);
      const fetched = await store.git(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--", collected.repository, `+refs/heads/${branch}:${ref}`], { okCodes: "any", signal });
      if (fetched.exitCode !== 0) throw new ExternalError(`cannot read ${branch} of ${instance} from its collected copy (${collected.repository}): ${fetched.stderr.trim()}`);
      const sha = (await store.resolve(ref)) ?? "";
      // The quarantine is rewritten only by collects of this instance, which the pool runs one at a time: a difference is a defect, not a race.
      if (sha !== expected) throw new ExternalError(`the collected copy of ${branch} from ${instance} is at ${sha.slice(0, 12)}, not the ${expected.slice(0, 12)} that was collected`);
      return sha;
    }, signal);
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
