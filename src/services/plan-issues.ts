import { ForgeNotFoundError } from "../core/forge/errors.ts";
import type { Forge } from "../core/forge/port.ts";
import type { Issue } from "../core/issues/issue.ts";
import { parseDependencyMentions } from "../core/issues/references.ts";
import type { PlanIssues } from "./plan.ts";

export interface GithubSelection {
  readonly numbers: readonly number[];
  readonly label?: string | undefined;
  readonly milestone?: string | undefined;
}

/** Issues fetched at once while following dependencies: enough to be quick, few enough to stay clear of GitHub's abuse limits. */
const CONCURRENCY = 8;

/**
 * The issues a plan on GitHub needs, in few requests: the selection (one
 * listing, or one read per number given), every open issue (one paginated
 * listing, skipped when the selection already is every open issue), then only
 * the dependencies still unknown, by number. Those are closed issues (merged,
 * so their own dependencies are not followed), or references to nothing, left
 * out so the graph names the line that makes them.
 */
export async function githubPlanIssues(forge: Forge, selection: GithubSelection): Promise<PlanIssues> {
  const filtered = selection.label !== undefined || selection.milestone !== undefined;
  const chosen =
    selection.numbers.length > 0
      ? (await forge.listIssues({ numbers: [...new Set(selection.numbers)], state: "all" })).filter(
          (issue) =>
            (selection.label === undefined || issue.labels.includes(selection.label)) &&
            (selection.milestone === undefined || issue.milestone === selection.milestone),
        )
      : await forge.listIssues({ state: "open", label: selection.label, milestone: selection.milestone });
  const everyOpen = selection.numbers.length === 0 && !filtered;
  const known = new Map<number, Issue>();
  for (const issue of everyOpen ? chosen : await forge.listIssues({ state: "open" })) known.set(issue.number, issue);
  for (const issue of chosen) known.set(issue.number, issue);

  const tried = new Set<number>();
  let frontier = unknownDependencies(chosen, known, tried, forge.repo);
  while (frontier.length > 0) {
    for (const number of frontier) tried.add(number);
    const fetched = await mapBounded(frontier, CONCURRENCY, (number) => fetchIfExists(forge, number));
    const found = fetched.filter((issue): issue is Issue => issue !== null);
    for (const issue of found) known.set(issue.number, issue);
    frontier = unknownDependencies(found, known, tried, forge.repo);
  }
  return { issues: [...known.values()].sort((a, b) => a.number - b.number), selected: chosen.map((i) => i.number).sort((a, b) => a - b) };
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
