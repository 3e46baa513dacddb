import { describe, expect, it } from "vitest";
import { baseBranchDecision, baseBranchRule, type DependencyStatus } from "./base-branch-rule.ts";

const FEATURE = "feature/login";

function status(named: number, unmerged: readonly (number | string)[], branches: readonly number[] = []): DependencyStatus {
  return { named, unmerged, hasBranch: (n) => branches.includes(n), featureBranch: FEATURE };
}

describe("the base-branch rule, one row at a time", () => {
  it("noDependencies: starts on the feature branch now", () => {
    expect(baseBranchDecision(status(0, []))).toEqual({ row: "noDependencies", action: "launch", base: FEATURE, stacked: false });
  });

  it("allMerged: starts on the feature branch now, like an issue with no dependencies", () => {
    expect(baseBranchDecision(status(2, []))).toEqual({ row: "allMerged", action: "launch", base: FEATURE, stacked: false });
  });

  it("oneUnmerged: stacks on issue-<dep> once that branch exists, and waits on it before", () => {
    expect(baseBranchDecision(status(2, [12], [12]))).toEqual({ row: "oneUnmerged", action: "launch", base: "issue-12", stacked: true });
    expect(baseBranchDecision(status(2, [12]))).toEqual({ row: "oneUnmerged", action: "wait", waitingOn: [12] });
    // Another repository's issue has no branch here: it must merge first.
    expect(baseBranchDecision(status(1, ["acme/api#4"], [4]))).toEqual({ row: "oneUnmerged", action: "wait", waitingOn: ["acme/api#4"] });
  });

  it("severalUnmerged: waits on every unmerged dependency, even when all of them have branches", () => {
    expect(baseBranchDecision(status(3, [11, 12], [11, 12]))).toEqual({ row: "severalUnmerged", action: "wait", waitingOn: [11, 12] });
  });

  it("has the four rows of the table, in its order, and exactly one applies to any status", () => {
    expect(baseBranchRule.map((row) => row.name)).toEqual(["noDependencies", "allMerged", "oneUnmerged", "severalUnmerged"]);
    for (let named = 0; named <= 3; named++) {
      for (let open = 0; open <= named; open++) {
        const probe = status(named, Array.from({ length: open }, (_, i) => i + 1));
        expect(baseBranchRule.filter((row) => row.applies(probe))).toHaveLength(1);
      }
    }
  });
});
