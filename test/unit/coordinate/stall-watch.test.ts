import { describe, expect, it } from "vitest";
import type { CoordinatorEvent } from "../../../src/core/coordinator/events.ts";
import { replay, type CoordinatorState } from "../../../src/core/coordinator/state.ts";
import { runReport } from "../../../src/core/coordinator/report.ts";
import { StallWatch } from "../../../src/services/coordinate/stall-watch.ts";
import { stallLines } from "../../../src/ui/coordinate-report.ts";
import { FakeWorkerPool } from "../../fakes/worker-pool.ts";

const START = Date.parse("2030-01-01T00:00:00.000Z");
const at = (ms: number): string => new Date(START + ms).toISOString();

/** #10's agent working since START, stallMinutes 1 (a minute of silence per step). */
const started: CoordinatorEvent[] = [
  {
    type: "RunStarted",
    at: at(0),
    runId: "r1",
    selected: [10],
    graph: { nodes: [{ number: 10, dependencies: [], external: [] }], order: [10] },
    settings: { featureBranch: "main", maxParallel: 1, maxAttempts: 2, review: false, stacking: true, verify: { all: null, e2e: null }, stallMinutes: 1 },
  },
  { type: "IssuesLoaded", at: at(0), issues: [{ number: 10, title: "Issue 10", state: "open", url: null }], external: [] },
  { type: "Warmed", at: at(0), issue: 10, instance: "issue-10" },
  { type: "Launched", at: at(0), issue: 10, attempt: 1, why: "initial", prompt: { kind: "implementer" }, base: "main", baseSha: "m0", headSha: "m0" },
];

/** A watch over the fake pool on a clock the test moves; what it records is applied to its state. */
function watching(): { watch: StallWatch; pool: FakeWorkerPool; recorded: CoordinatorEvent[]; clock: { now: number }; state: () => CoordinatorState } {
  const pool = new FakeWorkerPool({ commit: () => Promise.resolve("c1") });
  const recorded: CoordinatorEvent[] = [];
  const clock = { now: START };
  const state = (): CoordinatorState => replay([...started, ...recorded]);
  const watch = new StallWatch({
    workers: pool,
    state,
    launching: () => false,
    record: (events) => { recorded.push(...events); return Promise.resolve(); },
    notice: () => undefined,
    now: () => clock.now,
  });
  return { watch, pool, recorded, clock, state };
}

describe("the stall watch (where the coordinator learns of agent activity)", () => {
  it("records a new agent event as activity on the runtime's clock, at most once per half stallMinutes, and never the same event twice", async () => {
    const { watch, pool, recorded, clock } = watching();
    pool.agentSays("issue-10", "reading the code");
    clock.now = START + 20_000;
    await watch.pollSoon();
    expect(recorded).toEqual([]);
    clock.now = START + 30_000;
    await watch.pollSoon();
    expect(recorded).toEqual([{ type: "AgentActive", at: at(30_000), issue: 10, attempt: 1 }]);
    clock.now = START + 70_000;
    await watch.pollSoon();
    expect(recorded).toHaveLength(1);
    pool.agentSays("issue-10", "running the tests");
    await watch.pollSoon();
    expect(recorded.map((event) => event.at)).toEqual([at(30_000), at(70_000)]);
  });

  it("after a step, sees the agent's next event at once; the step's look says whether it spoke, and what it did last", async () => {
    const { watch, pool, recorded, clock, state } = watching();
    clock.now = START + 60_000;
    expect(await watch.look(10, 1, "issue-10")).toEqual({ active: false, lastEvent: null });
    recorded.push({ type: "StallNudged", at: at(60_000), issue: 10, attempt: 1, silentMinutes: 1, lastEvent: null, delivered: true, error: null });
    pool.agentSays("issue-10", "back to work");
    clock.now = START + 61_000;
    await watch.pollSoon();
    expect(recorded.at(-1)).toEqual({ type: "AgentActive", at: at(61_000), issue: 10, attempt: 1 });
    expect(state().issues[10]?.stall).toMatchObject({ step: null, quietSince: at(61_000) });
    expect(await watch.look(10, 1, "issue-10")).toEqual({ active: false, lastEvent: "text: back to work" });
    pool.agentSays("issue-10", "one more thing");
    expect(await watch.look(10, 1, "issue-10")).toEqual({ active: true, lastEvent: "text: one more thing" });
  });

  it("is shown in the report: each issue's steps on one line", () => {
    const events: CoordinatorEvent[] = [
      ...started,
      { type: "StallNudged", at: at(60_000), issue: 10, attempt: 1, silentMinutes: 1, lastEvent: null, delivered: true, error: null },
      { type: "StallRestarted", at: at(120_000), issue: 10, attempt: 1, silentMinutes: 2, reason: "silent", error: null },
      { type: "StallEscalated", at: at(180_000), issue: 10, attempt: 1, silentMinutes: 3 },
    ];
    expect(stallLines(runReport(replay(events)))).toEqual(["Stalls (agents silent for coordinator.stallMinutes): #10 nudged 1×, restarted 1×, needed you 1×."]);
    expect(stallLines(runReport(replay(started)))).toEqual([]);
  });
});
