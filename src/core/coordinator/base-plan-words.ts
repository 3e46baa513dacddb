import type { BaseBranchDecision } from "../plan/base-branch-rule.ts";

/**
 * Why an issue that has not started waits or where it will start, in words
 * for `cspace status` and the report (the rule's row names, like
 * `severalUnmerged`, are identifiers for code and tests, not for people).
 */
export function basePlanWords(plan: BaseBranchDecision): string {
  if (plan.action === "launch") {
    switch (plan.row) {
      case "noDependencies":
        return "it has no dependencies";
      case "allMerged":
        return "its dependencies are merged";
      case "oneUnmerged":
        return `stacked on its one unmerged dependency's branch ${plan.base}`;
      case "severalUnmerged":
        return "its dependencies allow it";
    }
  }
  const count = plan.waitingOn.length;
  if (count > 1) return `${String(count)} dependencies not merged yet; it starts once at most one is left unmerged`;
  const [only] = plan.waitingOn;
  // Another repository's issue has no branch here to stack on.
  if (typeof only === "string") return "another repository's issue, which must merge first";
  return `it stacks on issue-${String(only)} once that branch has verified work`;
}
