import { describe, expect, it } from "vitest";
import type { CoordinatorEvent } from "./events.ts";
import { runReview } from "./review.ts";
import { simulate, SIMULATION_START, type SimulationPlan } from "./simulate.ts";

/**
 * The simulator moves its clock a second a step; a real run takes minutes per
 * step. `slowed` stretches a simulated run's timestamps so that its waits are
 * as long as a real run's and the review's thresholds apply as they would.
 */
function slowed(events: readonly CoordinatorEvent[], factor = 600): CoordinatorEvent[] {
  const stretch = (at: string): string => new Date(SIMULATION_START + (Date.parse(at) - SIMULATION_START) * factor).toISOString();
  return events.map((event) => ({ ...event, at: stretch(event.at) }));
}

function reviewOf(plan: SimulationPlan, factor = 600): ReturnType<typeof runReview> {
  const result = simulate(plan);
  expect(result.finished).toBe(true);
  return runReview(slowed(result.events, factor));
}

describe("the after-action review, drawn from the event log", () => {
  it("follows the critical path back from the issue that settled last through the dependencies it waited on", () => {
    const review = reviewOf({ issues: { 10: [], 11: [10], 12: [11], 13: [] }, settings: { stacking: false } });
    expect(review.criticalPath.map((step) => [step.issue, step.outcome])).toEqual([
      [10, "merged"],
      [11, "merged"],
      [12, "merged"],
    ]);
    const [ten, eleven, twelve] = review.criticalPath;
    expect(ten?.gatedMs).toBeGreaterThan(0);
    expect(eleven?.gatedMs).toBeGreaterThan(0);
    expect(twelve?.gatedMs).toBe(0);
    // Each link starts after the merge it waited for.
    expect(Date.parse(eleven?.startedAt ?? "")).toBeGreaterThanOrEqual(Date.parse(ten?.settledAt ?? ""));
    expect(Date.parse(twelve?.startedAt ?? "")).toBeGreaterThanOrEqual(Date.parse(eleven?.settledAt ?? ""));
    expect(twelve?.workingMs).toBeGreaterThan(0);
  });

  it("suggests splitting a dependency an issue waited long on, with the wait and its share of the run", () => {
    const review = reviewOf({ issues: { 12: [], 13: [12] }, settings: { stacking: false } });
    const split = review.suggestions.filter((s) => s.kind === "split-dependency");
    expect(split).toHaveLength(1);
    expect(split[0]?.issues).toEqual([12, 13]);
    expect(split[0]?.text).toMatch(/^#13 waited \d+(m\d\ds|h\d\dm) on #12 \(\d+% of the run\) — splitting #12 would have let #13 start earlier$/);
  });

  it("suggests nothing for waits too short to matter", () => {
    const review = reviewOf({ issues: { 12: [], 13: [12] }, settings: { stacking: false } }, 1);
    expect(review.suggestions).toEqual([]);
    expect(review.wentWrong).toEqual([]);
  });

  it("suggests a blocked-by for two issues nothing ordered that conflicted, naming the file", () => {
    const review = reviewOf({ issues: { 7: [], 9: [] }, scripts: { 9: { landing: ["conflict"] } } });
    expect(review.suggestions.filter((s) => s.kind === "order-conflicting").map((s) => s.text)).toEqual([
      "#7 and #9 conflicted in src/shared.ts — consider a blocked-by (#9 blocked-by #7), so #9 starts from #7's work",
    ]);
    expect(review.wentWrong.map((f) => f.kind)).toEqual(expect.arrayContaining(["conflict", "rebase"]));
    // Already ordered: nothing to suggest.
    const ordered = reviewOf({ issues: { 7: [], 9: [7] }, scripts: { 9: { landing: ["conflict"] } } });
    expect(ordered.suggestions.filter((s) => s.kind === "order-conflicting")).toEqual([]);
  });

  it("points at a verify command that failed on several issues", () => {
    const review = reviewOf({ issues: { 4: [], 7: [], 9: [] }, scripts: { 4: { verify: ["fail"] }, 7: { verify: ["fail"] }, 9: { verify: ["fail"] } } });
    expect(review.suggestions.filter((s) => s.kind === "shared-verify-failure").map((s) => s.text)).toEqual([
      "verify failed on 3 issues (#4, #7, #9) for the same command, npm test — check it passes on the feature branch and in the worker image, and that the issues tell agents how to run it",
    ]);
    expect(review.wentWrong.filter((f) => f.kind === "verify")).toHaveLength(3);
    expect(review.wentWrong.filter((f) => f.kind === "retry").map((f) => f.issue)).toEqual(expect.arrayContaining([4, 7, 9]));
  });

  it("suggests more slots when issues queued for one long enough", () => {
    const review = reviewOf({ issues: { 1: [], 2: [], 3: [], 4: [], 5: [], 6: [] }, settings: { maxParallel: 1 } });
    const slots = review.suggestions.filter((s) => s.kind === "more-slots");
    expect(slots).toHaveLength(1);
    expect(slots[0]?.issues).toEqual(expect.arrayContaining([2, 3, 4, 5, 6]));
    expect(slots[0]?.text).toMatch(/^\d issues waited \S+ in all for a free slot \(coordinator\.maxParallel is 1\) — a higher maxParallel would have started them sooner/);
    // Two slots for two issues: nobody queued long.
    expect(reviewOf({ issues: { 1: [], 2: [] }, settings: { maxParallel: 2 } }).suggestions).toEqual([]);
  });

  it("says what went wrong, in order: failures, retries, lost workers, usage limits", () => {
    const review = reviewOf({
      issues: { 10: [], 11: [], 12: [] },
      settings: { maxAttempts: 2 },
      scripts: { 10: { attempts: ["crash", "crash"] }, 11: { attempts: ["lost"] }, 12: { attempts: ["rate-limited"] } },
    });
    const texts = review.wentWrong.map((f) => f.text);
    expect(texts).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^#10 attempt 1 failed \(crash: the agent was killed by SIGKILL\); tried again \(\+/),
        expect.stringMatching(/^#10 failed: 2 of 2 attempts failed/),
        expect.stringMatching(/^#11 lost its worker during attempt 1: container exited \(137\)/),
        expect.stringMatching(/^#12 met claude's usage limit: launches held until /),
        expect.stringMatching(/^usage limits held launches for /),
      ]),
    );
    const times = review.wentWrong.filter((f) => f.issue !== null).map((f) => Date.parse(f.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it("reads stall escalations by their type name, with the issue they concern", () => {
    const { events } = simulate({ issues: { 10: [] } });
    const launched = events.findIndex((event) => event.type === "Launched");
    const stall = { type: "StallNudged", at: events[launched]?.at ?? "", issue: 10 } as unknown as CoordinatorEvent;
    const review = runReview([...events.slice(0, launched + 1), stall, ...events.slice(launched + 1)]);
    expect(review.wentWrong.map((f) => [f.kind, f.issue])).toEqual([["stall", 10]]);
    expect(review.wentWrong[0]?.text).toMatch(/^#10 was silent past coordinator\.stallMinutes and was nudged/);
  });
});
