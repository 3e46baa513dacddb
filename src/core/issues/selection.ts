import type { Issue } from "./issue.ts";

/** What a listing narrows issues by; every field left out matches everything. */
export interface IssueFilter {
  readonly label?: string | undefined;
  readonly milestone?: string | undefined;
  /** Default "open". */
  readonly state?: "open" | "closed" | "all" | undefined;
}

/** Which issues a plan is about: numbers given by the user, narrowed by label and milestone. */
export interface IssueSelection {
  /** Empty means every open issue matching the filters. */
  readonly numbers: readonly number[];
  readonly label?: string | undefined;
  readonly milestone?: string | undefined;
}

/** The one label/milestone/state test: forges' listings and the plan's selection both use it. */
export function matchesFilter(issue: Issue, filter: IssueFilter): boolean {
  const state = filter.state ?? "open";
  return (
    (state === "all" || issue.state === state) &&
    (filter.label === undefined || issue.labels.includes(filter.label)) &&
    (filter.milestone === undefined || issue.milestone === filter.milestone)
  );
}

/** Numbers the user named are taken whatever their state (a closed one plans as merged); filters still narrow them. */
export function matchesSelection(issue: Issue, selection: IssueSelection): boolean {
  return matchesFilter(issue, { ...selection, state: selection.numbers.length > 0 ? "all" : "open" });
}

/**
 * The selected issue numbers, ascending. A named number with no issue is kept,
 * so the dependency graph reports it next to the issues that do exist.
 */
export function selectIssueNumbers(issues: readonly Issue[], selection: IssueSelection): number[] {
  if (selection.numbers.length === 0) return issues.filter((issue) => matchesSelection(issue, selection)).map((issue) => issue.number).sort(ascending);
  const byNumber = new Map(issues.map((issue) => [issue.number, issue]));
  return [...new Set(selection.numbers)]
    .filter((number) => {
      const issue = byNumber.get(number);
      return issue === undefined || matchesSelection(issue, selection);
    })
    .sort(ascending);
}

function ascending(a: number, b: number): number {
  return a - b;
}
