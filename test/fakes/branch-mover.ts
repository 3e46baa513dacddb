import { createHash } from "node:crypto";
import type { BranchMover, CommitRange, CommitSummary, ConflictQuery, HunksQuery, LandingPreparation, LandingRequest, PushRequest, RestackRequest, RestackResult } from "../../src/core/branches/port.ts";
import { ExternalError, type CspaceError } from "../../src/core/errors.ts";
import { HeadMovedError } from "../../src/core/forge/errors.ts";
import { assertBranchName } from "../../src/core/plan/feature-branch.ts";
import { CommitGraph } from "./branch-mover-graph.ts";

/**
 * An in-memory BranchMover for coordinator tests: the remote's branches,
 * what the host last fetched, and each worker's checkout, over commits of
 * whole files (./branch-mover-graph.ts). It passes the contract suite the real
 * adapters pass (test/contract/remote-git-fake.test.ts).
 *
 * Set-up: `remoteCommit` (a push by someone else, or a merge), `workerCommit`
 * (an agent's commit in its checkout), `squashMerge` (as a forge merges).
 * Conflicts come from the files, or are forced: `forceConflicts(branch,
 * paths)` makes restacks and predictions of that branch report `paths`.
 * Faults: `failNext(method, error)`. `calls` records every port call.
 */
export type BranchMoverMethod = keyof BranchMover;

const SHA = /^[0-9a-f]{40}$/;

export class FakeBranchMover implements BranchMover {
  readonly graph = new CommitGraph();
  /** The remote's branches. */
  readonly remote = new Map<string, string>();
  /** The remote's branches as the host last fetched or pushed them. */
  readonly fetched = new Map<string, string>();
  /** Each instance's checkout: branch → sha. */
  readonly checkouts = new Map<string, Map<string, string>>();
  readonly calls: { readonly method: BranchMoverMethod; readonly args: readonly unknown[] }[] = [];
  readonly #forced = new Map<string, readonly string[]>();
  readonly #faults = new Map<BranchMoverMethod, CspaceError[]>();

  // Set-up.

  /** Commits `files` on the remote's `branch` (created from `from`, a branch or sha, else a root commit). */
  remoteCommit(branch: string, files: Readonly<Record<string, string | null>>, message: string, from?: string): string {
    const parent = this.remote.get(branch) ?? (from === undefined ? null : (this.remote.get(from) ?? from));
    const sha = this.graph.commit(parent, files, message);
    this.remote.set(branch, sha);
    return sha;
  }

  /** Commits `files` on `branch` in the instance's checkout (started at `from`, a sha, on first use). */
  workerCommit(instance: string, branch: string, files: Readonly<Record<string, string | null>>, message: string, from?: string): string {
    const checkout = this.checkouts.get(instance) ?? new Map<string, string>();
    this.checkouts.set(instance, checkout);
    const sha = this.graph.commit(checkout.get(branch) ?? from ?? null, files, message);
    checkout.set(branch, sha);
    return sha;
  }

  /** Squash-merges the remote's `head` into `base`: one commit of the merged files on base's head. */
  squashMerge(head: string, base: string): string {
    const baseSha = this.#remoteHead(base);
    const headSha = this.#remoteHead(head);
    const merged = this.graph.merge(this.graph.mergeBase(baseSha, headSha), baseSha, headSha);
    if (!merged.ok) throw new Error(`fake: ${head} conflicts with ${base} in ${merged.conflicts.join(", ")}`);
    const sha = this.graph.add({ parents: [baseSha], files: merged.files, message: `squash ${head}` });
    this.remote.set(base, sha);
    return sha;
  }

  forceConflicts(branch: string, paths: readonly string[]): this {
    this.#forced.set(branch, [...paths].sort());
    return this;
  }

  failNext(method: BranchMoverMethod, error: CspaceError): this {
    this.#faults.set(method, [...(this.#faults.get(method) ?? []), error]);
    return this;
  }

  // The port.

  async fetch(branches: readonly string[]): Promise<ReadonlyMap<string, string | null>> {
    await this.#enter("fetch", [branches]);
    const heads = new Map<string, string | null>();
    for (const branch of branches) {
      const sha = this.remote.get(assertBranchName(branch, "branch")) ?? null;
      if (sha === null) this.fetched.delete(branch);
      else this.fetched.set(branch, sha);
      heads.set(branch, sha);
    }
    return heads;
  }

  async push(request: PushRequest): Promise<string> {
    await this.#enter("push", [request]);
    const { instance, branch, expectedRemoteSha } = request;
    const sha = request.collected?.sha ?? this.checkouts.get(instance)?.get(branch);
    if (sha === undefined) throw new ExternalError(`the checkout of ${instance} has no branch ${branch}: there is nothing to push`);
    this.#lease(branch, sha, expectedRemoteSha);
    return sha;
  }

  async restack(request: RestackRequest): Promise<RestackResult> {
    await this.#enter("restack", [request]);
    const { branch, oldParentHead, onto } = request;
    const head = this.#remoteHead(branch);
    const ontoSha = SHA.test(onto) ? onto : this.#remoteHead(onto);
    this.fetched.set(branch, head);
    const forced = this.#forced.get(branch);
    if (forced !== undefined) return { ok: false, conflicts: forced };
    if (!this.graph.has(oldParentHead) || !this.graph.isAncestor(oldParentHead, head)) {
      if (this.graph.isAncestor(ontoSha, head)) return { ok: true, sha: head, changed: false };
      throw new ExternalError(`cannot restack ${branch}: it contains neither the old parent head nor ${onto}`);
    }
    const replayed = this.graph.replay(head, oldParentHead, ontoSha);
    if (!replayed.ok || replayed.sha === head) return replayed.ok ? { ok: true, sha: head, changed: false } : replayed;
    this.#lease(branch, replayed.sha, head);
    return { ok: true, sha: replayed.sha, changed: true };
  }

  async predictConflicts(query: ConflictQuery): Promise<readonly string[]> {
    await this.#enter("predictConflicts", [query]);
    const forced = this.#forced.get(query.branch);
    if (forced !== undefined) return forced;
    const head = this.#known(query.branch);
    const onto = this.#known(query.onto);
    const old = query.oldParentHead;
    const base = old !== undefined && this.graph.has(old) && this.graph.isAncestor(old, head) ? old : this.graph.mergeBase(onto, head);
    const merged = this.graph.merge(base, onto, head);
    return merged.ok ? [] : merged.conflicts;
  }

  async commitsBetween(query: CommitRange): Promise<readonly CommitSummary[]> {
    await this.#enter("commitsBetween", [query]);
    const excluded = this.graph.ancestors(this.#known(query.base));
    const found: CommitSummary[] = [];
    // Newest first: a walk from the head along parents, as git log shows a line of history.
    const stack = [this.#known(query.head)];
    const seen = new Set<string>();
    for (let next = stack.shift(); next !== undefined && found.length < query.limit; next = stack.shift()) {
      if (seen.has(next) || excluded.has(next)) continue;
      seen.add(next);
      const commit = this.graph.get(next);
      found.push({ sha: next, title: commit.message.split("\n")[0] ?? "", parent: commit.parents[0] ?? null });
      stack.push(...commit.parents);
    }
    return found;
  }

  async prepareLanding(request: LandingRequest): Promise<LandingPreparation> {
    await this.#enter("prepareLanding", [request]);
    const baseSha = this.#remoteHead(request.base);
    this.fetched.set(request.base, baseSha);
    // The train's cars ahead are merged onto the tip first, in order, as the real store does.
    let onto = baseSha;
    for (const car of request.ahead ?? []) {
      const ahead = this.graph.merge(this.graph.mergeBase(onto, car.head), onto, car.head);
      if (!ahead.ok) return { ok: false, baseSha, conflicts: ahead.conflicts };
      onto = this.graph.add({ parents: [onto, car.head], files: ahead.files, message: car.label });
    }
    const merged = this.graph.merge(this.graph.mergeBase(onto, request.head), onto, request.head);
    if (!merged.ok) return { ok: false, baseSha, conflicts: merged.conflicts };
    const commit = this.graph.add({ parents: [onto, request.head], files: merged.files, message: "cspace: the tree that would land" });
    const since = request.since ?? this.graph.mergeBase(onto, request.head);
    const underneath = [...this.graph.ancestors(onto)].filter((sha) => since === null || !this.graph.isAncestor(sha, since)).map((sha) => this.graph.get(sha).message);
    return { ok: true, baseSha, tree: fakeTree(merged.files), commit, underneath: underneath.join("\n") };
  }

  async treeOf(commit: string): Promise<string | null> {
    await this.#enter("treeOf", [commit]);
    return this.graph.has(commit) ? fakeTree(this.graph.get(commit).files) : null;
  }

  async readWork(instance: string, branch: string): Promise<string | null> {
    await this.#enter("readWork", [instance, branch]);
    return this.checkouts.get(instance)?.get(branch) ?? null;
  }

  async conflictHunks(query: HunksQuery, maxChars: number): Promise<string> {
    await this.#enter("conflictHunks", [query, maxChars]);
    const head = this.#known(query.branch);
    const onto = this.#known(query.onto);
    const merged = this.graph.merge(this.graph.mergeBase(onto, head), onto, head);
    if (merged.ok) return "";
    // Whole files stand for git's regions: the two sides of each conflicted file, between the same markers.
    const text = merged.conflicts
      .filter((file) => query.paths === undefined || query.paths.includes(file))
      .flatMap((file) => [`--- ${file}`, `<<<<<<< ${query.onto}`, this.graph.get(onto).files.get(file) ?? "", "=======", this.graph.get(head).files.get(file) ?? "", `>>>>>>> ${query.branch}`])
      .join("\n");
    return text.slice(0, maxChars);
  }

  async changedPaths(query: ConflictQuery): Promise<readonly string[]> {
    await this.#enter("changedPaths", [query]);
    const head = this.#known(query.branch);
    const base = this.graph.mergeBase(this.#known(query.onto), head);
    const before = base === null ? new Map<string, string>() : this.graph.get(base).files;
    const after = this.graph.get(head).files;
    return [...new Set([...before.keys(), ...after.keys()])].filter((file) => before.get(file) !== after.get(file)).sort();
  }

  // Inside.

  #lease(branch: string, sha: string, expected: string | null): void {
    const actual = this.remote.get(branch) ?? null;
    if (actual !== sha && actual !== expected) {
      throw new HeadMovedError(`the remote's ${branch} is at ${actual ?? "nothing"}, not ${expected ?? "nothing"}: nothing was pushed`, { expectedSha: expected, actualSha: actual });
    }
    this.remote.set(branch, sha);
    this.fetched.set(branch, sha);
  }

  #remoteHead(branch: string): string {
    const sha = this.remote.get(assertBranchName(branch, "branch"));
    if (sha === undefined) throw new ExternalError(`${branch} does not exist on the fake remote`);
    return sha;
  }

  /** A sha, or a branch as last fetched (fetching it when never fetched, as the real adapters do). */
  #known(rev: string): string {
    if (SHA.test(rev) && this.graph.has(rev)) return rev;
    const sha = this.fetched.get(rev) ?? this.remote.get(rev);
    if (sha === undefined) throw new ExternalError(`cannot predict conflicts: ${rev} is neither a branch of the remote nor a known commit`);
    if (!this.fetched.has(rev)) this.fetched.set(rev, sha);
    return sha;
  }

  async #enter(method: BranchMoverMethod, args: readonly unknown[]): Promise<void> {
    this.calls.push({ method, args });
    await Promise.resolve();
    const [fault, ...rest] = this.#faults.get(method) ?? [];
    if (fault === undefined) return;
    this.#faults.set(method, rest);
    throw fault;
  }
}

/** A tree's name in the fake: the same files, the same name. */
function fakeTree(files: ReadonlyMap<string, string>): string {
  return createHash("sha1").update(JSON.stringify([...files].sort())).digest("hex");
}
