import type { BranchMover, CommitRange, CommitSummary, LandingPreparation, LandingRequest, PushRequest, RestackRequest, RestackResult } from "../../src/core/branches/port.ts";
import { HeadMovedError } from "../../src/core/forge/errors.ts";
import type { FakeForge } from "./forge.ts";

/**
 * `BranchMover.commitsBetween` over a FakeForge's commits, for the worlds
 * whose BranchMover is a thin layer on the fake forge: the commits of `head`
 * (a branch or sha) that `base` does not reach, newest first along parents.
 */
export async function commitsOnFakeForge(forge: FakeForge, query: CommitRange): Promise<readonly CommitSummary[]> {
  const { repository } = forge;
  const shaOf = async (rev: string): Promise<string> => (await repository.branchSha(rev)) ?? rev;
  const excluded = new Set<string>();
  for (let pending = [await shaOf(query.base)], next = pending.shift(); next !== undefined; next = pending.shift()) {
    if (excluded.has(next)) continue;
    excluded.add(next);
    pending.push(...(await repository.parents(next)));
  }
  const found: CommitSummary[] = [];
  const seen = new Set<string>();
  for (let pending = [await shaOf(query.head)], next = pending.shift(); next !== undefined && found.length < query.limit; next = pending.shift()) {
    if (seen.has(next) || excluded.has(next)) continue;
    seen.add(next);
    const parents = await repository.parents(next);
    found.push({ sha: next, title: (await repository.message(next)).split("\n")[0] ?? "", parent: parents[0] ?? null });
    pending.push(...parents);
  }
  return found;
}

export interface ForgeMoverOptions {
  /** Each instance's checkout: the commit its push sends. */
  readonly checkouts: ReadonlyMap<string, string>;
  /** The commit a restack of `request.branch` (now at `head`) onto `request.onto` makes: each world decides its files. */
  readonly restackCommit: (request: RestackRequest, head: string) => Promise<string>;
  /** The tree that would land; by default the head alone names it (trees are not modelled). */
  readonly prepareLanding?: BranchMover["prepareLanding"];
  /** A commit's tree; by default unknown (null), so no squash is compared with a verified tree. */
  readonly treeOf?: BranchMover["treeOf"];
}

/**
 * The BranchMover of the coordinate worlds (test/unit/coordinate/world.ts and
 * bench/coordinate): a thin layer on a FakeForge. A push moves the forge's
 * branch to the instance's checkout under the lease, as git's
 * --force-with-lease does; a restack moves the branch to the commit the world
 * makes; nothing conflicts.
 */
export function forgeMover(forge: FakeForge, options: ForgeMoverOptions): BranchMover {
  const heads = async (branches: readonly string[]): Promise<ReadonlyMap<string, string | null>> =>
    new Map(await Promise.all(branches.map(async (b) => [b, await forge.branchHead(b)] as const)));
  // Trees are not modelled by default: the landing tree is named by the head alone (so a train's verification holds
  // on the tip its cars ahead make), and no squash's tree is known to compare with.
  const headAsTree = async (request: LandingRequest): Promise<LandingPreparation> => {
    const baseSha = (await forge.branchHead(request.base)) ?? "";
    return { ok: true, baseSha, tree: `tree-of-${request.head}`, commit: request.head, underneath: "" };
  };
  return {
    fetch: heads,
    push: async (request: PushRequest): Promise<string> => {
      const sha = options.checkouts.get(request.instance);
      if (sha === undefined) throw new Error(`no checkout for ${request.instance}`);
      const current = await forge.branchHead(request.branch);
      if (current === sha) return sha;
      if (current !== request.expectedRemoteSha) throw new HeadMovedError(`lease on ${request.branch}`, { expectedSha: request.expectedRemoteSha, actualSha: current });
      if (current === null) await forge.createBranch(request.branch, sha);
      else await forge.moveBranch(request.branch, sha, { expectedSha: current, force: true });
      return sha;
    },
    restack: async (request: RestackRequest): Promise<RestackResult> => {
      const head = await forge.branchHead(request.branch);
      if (head === null) throw new Error(`restack of ${request.branch}, which is not on the forge`);
      const sha = await options.restackCommit(request, head);
      await forge.moveBranch(request.branch, sha, { expectedSha: head, force: true });
      return { ok: true, sha, changed: true };
    },
    predictConflicts: () => Promise.resolve([]),
    commitsBetween: (query) => commitsOnFakeForge(forge, query),
    prepareLanding: options.prepareLanding ?? headAsTree,
    treeOf: options.treeOf ?? (() => Promise.resolve(null)),
    readWork: () => Promise.resolve(null),
    conflictHunks: () => Promise.resolve(""),
    changedPaths: () => Promise.resolve([]),
  };
}
