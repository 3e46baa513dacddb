import { InternalError } from "../errors.ts";

/**
 * The base-branch rule of design.md §4 and the README, as data: one row per
 * line of the table, each with its condition, its base and its action. The
 * planner asks {@link baseBranchDecision} and never restates the rule.
 */

/** What the rule looks at for one issue. */
export interface DependencyStatus {
  /** How many dependencies the issue names, this repository's and others'. */
  readonly named: number;
  /** Those not merged yet: issue numbers, or `owner/repo#N` references, in the order they are waited on. */
  readonly unmerged: readonly (number | string)[];
  /** Whether issue N's branch `issue-N` holds verified work on the forge, so work can stack on it now. */
  readonly hasBranch: (issue: number) => boolean;
  readonly featureBranch: string;
}

export type BaseBranchRowName = "noDependencies" | "allMerged" | "oneUnmerged" | "severalUnmerged";

export type BaseBranchDecision =
  /** `stacked`: the base is another issue's branch, not the feature branch. */
  | { readonly row: BaseBranchRowName; readonly action: "launch"; readonly base: string; readonly stacked: boolean }
  | { readonly row: BaseBranchRowName; readonly action: "wait"; readonly waitingOn: readonly (number | string)[] };

export interface BaseBranchRow {
  readonly name: BaseBranchRowName;
  /** The table's three columns, worded as the README words them. */
  readonly table: { readonly state: string; readonly base: string; readonly action: string };
  readonly applies: (status: DependencyStatus) => boolean;
  readonly decide: (status: DependencyStatus) => BaseBranchDecision;
}

export const baseBranchRule: readonly BaseBranchRow[] = [
  {
    name: "noDependencies",
    table: { state: "No dependencies", base: "feature branch", action: "launch now" },
    applies: (status) => status.named === 0,
    decide: (status) => ({ row: "noDependencies", action: "launch", base: status.featureBranch, stacked: false }),
  },
  {
    name: "allMerged",
    table: { state: "All dependencies merged", base: "feature branch", action: "launch now" },
    applies: (status) => status.named > 0 && status.unmerged.length === 0,
    decide: (status) => ({ row: "allMerged", action: "launch", base: status.featureBranch, stacked: false }),
  },
  {
    name: "oneUnmerged",
    table: { state: "Exactly one unmerged dependency", base: "`issue-<dep>`", action: "launch, stacked, once that dependency has pushed verified work" },
    applies: (status) => status.unmerged.length === 1,
    decide: (status) => {
      const [dependency] = status.unmerged;
      // Another repository's issue has no branch here to stack on: it must merge first.
      if (typeof dependency === "number" && status.hasBranch(dependency)) {
        return { row: "oneUnmerged", action: "launch", base: `issue-${String(dependency)}`, stacked: true };
      }
      return { row: "oneUnmerged", action: "wait", waitingOn: status.unmerged };
    },
  },
  {
    name: "severalUnmerged",
    table: { state: "Several unmerged dependencies", base: "—", action: "wait until at most one is unmerged" },
    applies: (status) => status.unmerged.length > 1,
    decide: (status) => ({ row: "severalUnmerged", action: "wait", waitingOn: status.unmerged }),
  },
];

/** The decision of the one row that applies (the conditions cover every case, and never two rows at once). */
export function baseBranchDecision(status: DependencyStatus): BaseBranchDecision {
  const row = baseBranchRule.find((candidate) => candidate.applies(status));
  if (row === undefined) throw new InternalError(`no row of the base-branch rule applies to ${String(status.named)} dependencies, ${String(status.unmerged.length)} unmerged`);
  return row.decide(status);
}
