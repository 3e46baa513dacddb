import { ForgeNotFoundError } from "../../core/forge/errors.ts";
import type { Forge } from "../../core/forge/port.ts";
import type { Issue } from "../../core/issues/issue.ts";
import { parseDependencyMentions } from "../../core/issues/references.ts";
import { matchesSelection, selectIssueNumbers, type IssueSelection } from "../../core/issues/selection.ts";

/** What a plan is made from: every issue the graph may need, which of them were asked for, and the forge's notices. */
export interface PlanIssues {
  readonly issues: readonly Issue[];
  /** Ascending. */
  readonly selected: readonly number[];
  /** Warnings from the forge's listings (files it skipped, …), deduplicated. */
  readonly notices: readonly string[];
}

/** Issues read at once while following dependencies: enough to be quick, few enough to stay clear of GitHub's abuse limits. */
export const COLLECT_CONCURRENCY = 8;

/**
 * The issues a plan needs, in few reads, on any forge. A forge that lists
 * every issue at once is read once. Otherwise: the selection (one listing, or
 * the numbers given), every open issue (skipped when the selection already is
 * every open issue), then only the dependencies still unknown, by number,
 * {@link COLLECT_CONCURRENCY} at a time. Those are closed issues (merged, so
 * their own dependencies are not followed), or references to nothing, left
 * out so the graph names the line that makes them.
 */
export async function collectPlanIssues(forge: Forge, selection: IssueSelection): Promise<PlanIssues> {
  if (forge.listsEveryIssueAtOnce) {
    const { issues, notices } = await forge.listIssues({ state: "all" });
    return { issues, selected: selectIssueNumbers(issues, selection), notices: unique(notices) };
  }

  const notices: string[] = [];
  const listed = async (query: Parameters<Forge["listIssues"]>[0]): Promise<readonly Issue[]> => {
    const listing = await forge.listIssues(query);
    notices.push(...listing.notices);
    return listing.issues;
  };
  const named = selection.numbers.length > 0;
  const chosen = named
    ? (await listed({ numbers: [...new Set(selection.numbers)], state: "all" })).filter((issue) => matchesSelection(issue, selection))
    : await listed({ state: "open", label: selection.label, milestone: selection.milestone });
  const everyOpen = !named && selection.label === undefined && selection.milestone === undefined;
  const known = new Map<number, Issue>();
  for (const issue of everyOpen ? chosen : await listed({ state: "open" })) known.set(issue.number, issue);
  for (const issue of chosen) known.set(issue.number, issue);

  const tried = new Set<number>();
  let frontier = unknownDependencies(chosen, known, tried, forge.repo);
  while (frontier.length > 0) {
    for (const number of frontier) tried.add(number);
    const fetched = await mapBounded(frontier, COLLECT_CONCURRENCY, (number) => fetchIfExists(forge, number));
    const found = fetched.filter((issue): issue is Issue => issue !== null);
    for (const issue of found) known.set(issue.number, issue);
    frontier = unknownDependencies(found, known, tried, forge.repo);
  }
  return {
    issues: [...known.values()].sort((a, b) => a.number - b.number),
    selected: chosen.map((issue) => issue.number).sort((a, b) => a - b),
    notices: unique(notices),
  };
}

/** Dependencies of this repository, reached from `from` through open issues, that are neither known nor already asked for. */
function unknownDependencies(from: readonly Issue[], known: ReadonlyMap<number, Issue>, tried: ReadonlySet<number>, repo: string | null): number[] {
  const thisRepo = repo?.toLowerCase() ?? null;
  const wanted = new Set<number>();
  const visited = new Set<number>();
  const stack = [...from];
  while (stack.length > 0) {
    const issue = stack.pop();
    if (issue === undefined || visited.has(issue.number) || issue.state === "closed") continue;
    visited.add(issue.number);
    for (const mention of parseDependencyMentions(issue.body)) {
      if (mention.repo !== null && mention.repo.toLowerCase() !== thisRepo) continue;
      const dependency = known.get(mention.number);
      if (dependency !== undefined) stack.push(dependency);
      else if (!tried.has(mention.number)) wanted.add(mention.number);
    }
  }
  return [...wanted].sort((a, b) => a - b);
}

async function fetchIfExists(forge: Forge, number: number): Promise<Issue | null> {
  try {
    return await forge.getIssue(number);
  } catch (error) {
    // The graph reports a reference to nothing with the line that makes it.
    if (error instanceof ForgeNotFoundError) return null;
    throw error;
  }
}

async function mapBounded<T, R>(items: readonly T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      const item = items[index];
      if (item !== undefined) results[index] = await run(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function unique(notices: readonly string[]): string[] {
  return [...new Set(notices)];
}
