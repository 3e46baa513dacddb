import { describe, expect, it } from "vitest";
import type { Action } from "./actions.ts";
import { simulate, type SimulationPlan } from "./simulate.ts";
import { seededChoice } from "../../../test/support/simulation-cases.ts";

/**
 * Shrunk counterexamples from decide.property.test.ts: an interrupted attempt
 * leaves its prompt pending, so the issue is relaunched as soon as nothing in
 * the state forbids it. Its parent's merge being recorded hides the restack
 * the state asked for, while that restack is still in flight: the agent then
 * started from the old head and its work was pushed with a lease the restack
 * had already broken ("push of issue-N expected <sha>, forge has <sha>").
 */

/** Runs the plan and lists every launch decided while a restack or push of the same branch was still in flight. */
function launchesOnMovingBranches(plan: SimulationPlan): { finished: boolean; launchesWhileMoving: string[] } {
  const launchesWhileMoving: string[] = [];
  const onDecide = (actions: readonly Action[], _state: unknown, inFlight: readonly Action[]): void => {
    for (const action of actions) {
      if (action.type !== "Launch") continue;
      const moving = inFlight.find((other) => (other.type === "Restack" || other.type === "Push") && other.issue === action.issue);
      if (moving !== undefined) launchesWhileMoving.push(`#${String(action.issue)} attempt ${String(action.attempt)} during its ${moving.type}`);
    }
  };
  const result = simulate({ ...plan, onDecide, maxSteps: 6_000 });
  return { finished: result.finished, launchesWhileMoving };
}

describe("no agent starts on a branch the host is still moving (push with lease after an interrupted attempt)", () => {
  it("a retry after an interrupted sibling's run, while its parent is being merged, waits for its restack to land", () => {
    const result = launchesOnMovingBranches({
      issues: { 1: [28], 2: [], 3: [1], 4: [1], 28: [], 29: [2, 28] },
      scripts: { 1: { attempts: ["no-commits"] }, 4: { attempts: ["interrupted"] }, 29: { launch: ["unstartable"] } },
      settings: { maxParallel: 2, maxAttempts: 2, review: false, stacking: true, verify: { all: null, e2e: null } },
      choose: seededChoice(1789057605),
    });
    expect(result).toEqual({ finished: true, launchesWhileMoving: [] });
  });

  it("an interrupted retry's relaunch, while its parent is being merged, waits for its restack to land", () => {
    const result = launchesOnMovingBranches({
      issues: { 1: [], 2: [1] },
      scripts: { 1: { checks: ["failing"] }, 2: { launch: ["unstartable"], attempts: ["oom", "interrupted"] } },
      settings: { maxParallel: 2, maxAttempts: 2, review: true, stacking: true, verify: { all: null, e2e: null } },
      choose: seededChoice(357673632),
    });
    expect(result).toEqual({ finished: true, launchesWhileMoving: [] });
  });
});
