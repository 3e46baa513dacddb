import type { CommitRange, CommitSummary } from "../../src/core/branches/port.ts";
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
