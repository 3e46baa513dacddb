import { describe, expect, it } from "vitest";
import type { VerifyLanding } from "./actions.ts";
import { decide } from "./decide.ts";
import type { CoordinatorEvent, CoordinatorEventType } from "./events.ts";
import { simulate } from "./simulate.ts";
import { replay } from "./state.ts";
import type { RunSettings } from "./vocabulary.ts";

/** The merge train (train.ts): candidates verified at once, each on the tip with the cars before it merged. */

const FEATURE = "feature/login";
const T0 = Date.parse("2030-01-01T00:00:00.000Z");
const at = (second = 0): string => new Date(T0 + second * 1000).toISOString();

function eventsOf<T extends CoordinatorEventType>(events: readonly CoordinatorEvent[], type: T): Extract<CoordinatorEvent, { type: T }>[] {
  return events.filter((event): event is Extract<CoordinatorEvent, { type: T }> => event.type === type);
}

/** Issues 1–4, independent, each pushed, verified alone, with a green pull request, on a feature branch that passes alone. */
function fourReady(train: number): CoordinatorEvent[] {
  const numbers = [1, 2, 3, 4];
  const settings: RunSettings = { featureBranch: FEATURE, maxParallel: 4, maxAttempts: 2, review: false, stacking: true, verify: { all: "npm test", e2e: null }, verifyLanding: true, train };
  const nodes = numbers.map((n) => ({ number: n, dependencies: [], external: [] }));
  const events: CoordinatorEvent[] = [
    { type: "RunStarted", at: at(), runId: "r1", selected: numbers, graph: { nodes, order: numbers }, settings },
    { type: "IssuesLoaded", at: at(), issues: numbers.map((n) => ({ number: n, title: `Issue ${String(n)}`, state: "open", url: null })), external: [] },
    { type: "BaseVerified", at: at(1), epoch: 0, branch: FEATURE, baseSha: "f0", passed: true, command: null, exitCode: null, outputTail: null },
  ];
  for (const n of numbers) {
    const head = `h${String(n)}`;
    events.push(
      { type: "Warmed", at: at(2), issue: n, instance: `issue-${String(n)}` },
      { type: "Launched", at: at(3), issue: n, attempt: 1, why: "initial", prompt: { kind: "implementer" }, base: FEATURE, baseSha: "f0", headSha: "f0" },
      {
        type: "Reported",
        at: at(4),
        issue: n,
        attempt: 1,
        report: {
          id: `r${String(n)}`,
          instance: `issue-${String(n)}`,
          outcome: "success",
          exitCode: 0,
          signal: null,
          branch: `issue-${String(n)}`,
          base: FEATURE,
          headSha: head,
          commitsAhead: 1,
          summary: "done",
          blockedReason: null,
          turns: 2,
          costUsd: 0.1,
          sessionId: null,
          startedAt: at(3),
          endedAt: at(4),
        },
      },
      { type: "Pushed", at: at(5), issue: n, headSha: head, forced: false },
      { type: "Verified", at: at(6), issue: n, headSha: head },
      { type: "PullRequestOpened", at: at(7), issue: n, pr: 100 + n, url: `https://forge.test/pr/${String(100 + n)}`, base: FEATURE, headSha: head },
      { type: "PullRequestChecked", at: at(8), issue: n, pr: 100 + n, headSha: head, epoch: 0, mergeability: "mergeable", checks: "success", details: [], conflicts: [] },
    );
  }
  return events;
}

const landings = (events: readonly CoordinatorEvent[], inFlight: readonly VerifyLanding[] = []): VerifyLanding[] =>
  decide(replay(events), T0 + 60_000, inFlight).filter((action): action is VerifyLanding => action.type === "VerifyLanding");

const aheadOf = (action: VerifyLanding): number[] => action.ahead.map((car) => car.issue);

describe("the merge train", () => {
  it("verifies ready candidates at once, each on the tip with the cars before it merged, up to coordinator.train", () => {
    const train = landings(fourReady(4));
    expect(train.map((action) => [action.issue, aheadOf(action)])).toEqual([[1, []], [2, [1]], [3, [1, 2]], [4, [1, 2, 3]]]);
    expect(train[3]?.ahead).toEqual([{ issue: 1, headSha: "h1" }, { issue: 2, headSha: "h2" }, { issue: 3, headSha: "h3" }]);
    // Two cars at most: the next one joins behind the last once there is room.
    const two = landings(fourReady(2));
    expect(two.map((action) => [action.issue, aheadOf(action)])).toEqual([[1, []], [2, [1]]]);
    expect(landings(fourReady(2), two)).toEqual([]);
    // Train 1 is one at a time, as before trains.
    expect(landings(fourReady(1)).map((action) => [action.issue, aheadOf(action)])).toEqual([[1, []]]);
  });

  it("a car whose car ahead failed is verified again without it; the prefix that passed merges first", () => {
    const [first, second, third, fourth] = landings(fourReady(4));
    if (first === undefined || second === undefined || third === undefined || fourth === undefined) throw new Error("no train");
    const verified = (action: VerifyLanding, tree: string): CoordinatorEvent => ({ type: "LandingVerified", at: at(20), issue: action.issue, headSha: action.headSha, epoch: 0, baseSha: "f0", ahead: action.ahead, tree });
    const events = [
      ...fourReady(4),
      verified(first, "t1"),
      verified(second, "t12"),
      { type: "LandingFailed", at: at(21), issue: 3, headSha: "h3", epoch: 0, baseSha: "f0", ahead: third.ahead, tree: "t123", command: "npm test", exitCode: 1, outputTail: "rename broke a caller", underneath: "" },
      verified(fourth, "t1234"),
    ] satisfies CoordinatorEvent[];
    const again = landings(events);
    expect(again.map((action) => [action.issue, aheadOf(action)])).toEqual([[4, [1, 2]]]);
    const actions = decide(replay(events), T0 + 60_000, []);
    // #1 merges now, naming the tree it was verified as; #3 waits for #1 and #2 to merge before its failure is judged.
    expect(actions.filter((action) => action.type === "Merge")).toMatchObject([{ issue: 1, verified: { tree: "t1", baseSha: "f0", epoch: 0 } }]);
    expect(actions.some((action) => action.type === "Retry")).toBe(false);
  });

  it("a train of four where the third fails: the others merge, the third is retried with what merged ahead of it and merges", () => {
    // The third's work and the second's pass alone and fail together; agents finish before any car's verification.
    const result = simulate({ issues: { 1: [], 2: [], 3: [], 4: [] }, settings: { maxParallel: 4, maxAttempts: 2, train: 4 }, semantics: { incompatible: [[2, 3]] } });
    expect(result.finished).toBe(true);
    const firstMerge = result.events.findIndex((event) => event.type === "Merged");
    const cars = result.events.slice(0, firstMerge).flatMap((event) => (event.type === "LandingVerified" || event.type === "LandingFailed" ? [[event.issue, (event.ahead ?? []).map((car) => car.issue)]] : []));
    expect(cars).toEqual([[1, []], [2, [1]], [3, [1, 2]], [4, [1, 2, 3]], [4, [1, 2]]]);
    expect(eventsOf(result.events, "Merged").map((event) => event.issue)).toEqual([1, 2, 4, 3]);
    const retried = eventsOf(result.events, "Retried");
    expect(retried.map((event) => event.issue)).toEqual([3]);
    expect(retried[0]?.failure.summary).toContain("npm test exited 1 on issue-3 merged into feature/sim at f0 after #1, #2, though");
    expect(Object.values(result.state.issues).map((issue) => issue.status.kind)).toEqual(["merged", "merged", "merged", "merged"]);
  });
});
