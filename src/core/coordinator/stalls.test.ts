import { describe, expect, it } from "vitest";
import { decisionEvent, isDecision, type Action } from "./actions.ts";
import { decide, nextWakeAt } from "./decide.ts";
import type { CoordinatorEvent } from "./events.ts";
import { needsYou } from "./needs-you.ts";
import { outcomeEvents } from "./outcomes.ts";
import { reportRows } from "./report.ts";
import { replay, type CoordinatorState } from "./state.ts";

const START = Date.parse("2030-01-01T00:00:00.000Z");
const MIN = 60_000;
const at = (ms: number): string => new Date(START + ms).toISOString();

/** #10 working on attempt 1 since START; stalls watched every `stallMinutes`. */
function run(stallMinutes: number | undefined): CoordinatorEvent[] {
  return [
    {
      type: "RunStarted",
      at: at(0),
      runId: "r1",
      selected: [10],
      graph: { nodes: [{ number: 10, dependencies: [], external: [] }], order: [10] },
      settings: { featureBranch: "main", maxParallel: 1, maxAttempts: 2, review: false, stacking: true, verify: { all: null, e2e: null }, ...(stallMinutes === undefined ? {} : { stallMinutes }) },
    },
    { type: "IssuesLoaded", at: at(0), issues: [{ number: 10, title: "Issue 10", state: "open", url: null }], external: [] },
    { type: "Warmed", at: at(0), issue: 10, instance: "issue-10" },
    { type: "Launched", at: at(0), issue: 10, attempt: 1, why: "initial", prompt: { kind: "implementer" }, base: "main", baseSha: "m0", headSha: "m0" },
  ];
}

const stallSteps = (actions: readonly Action[]): Action[] => actions.filter((a) => a.type === "NudgeStalled" || a.type === "RestartStalled" || a.type === "EscalateStall");

/** Takes the step decide asks for at `ms`, as the runtime would record it (the agent silent). */
function takeStep(events: CoordinatorEvent[], ms: number): Action {
  const [step] = stallSteps(decide(replay(events), START + ms));
  if (step === undefined) throw new Error(`no stall step at ${String(ms)} ms`);
  if (isDecision(step)) events.push(decisionEvent(step, at(ms)));
  else if (step.type === "NudgeStalled") events.push(...outcomeEvents(step, { active: false, lastEvent: "step: sleep 600", error: null }, at(ms)));
  else if (step.type === "RestartStalled") events.push(...outcomeEvents(step, { active: false, error: null }, at(ms)));
  return step;
}

function stateAt(events: readonly CoordinatorEvent[]): CoordinatorState {
  return replay(events);
}

describe("stalls (an agent silent for coordinator.stallMinutes while it works)", () => {
  it("is nudged, then restarted, then needs you, each after another stallMinutes of silence, on the runtime's clock", () => {
    const events = run(15);
    expect(stallSteps(decide(stateAt(events), START + 15 * MIN - 1))).toEqual([]);
    expect(nextWakeAt(stateAt(events))).toBe(START + 15 * MIN);
    expect(takeStep(events, 15 * MIN)).toMatchObject({ type: "NudgeStalled", issue: 10, instance: "issue-10", attempt: 1, silentMinutes: 15 });
    expect(events.at(-1)).toMatchObject({ type: "StallNudged", lastEvent: "step: sleep 600", delivered: true });
    expect(stallSteps(decide(stateAt(events), START + 30 * MIN - 1))).toEqual([]);
    expect(nextWakeAt(stateAt(events))).toBe(START + 30 * MIN);
    expect(takeStep(events, 30 * MIN)).toMatchObject({ type: "RestartStalled", silentMinutes: 30, reason: expect.stringContaining("30 minutes") as string });
    expect(needsYou(stateAt(events))).toEqual([]);
    expect(takeStep(events, 45 * MIN)).toMatchObject({ type: "EscalateStall", silentMinutes: 45 });
    const escalated = stateAt(events);
    expect(needsYou(escalated)).toEqual([expect.objectContaining({ kind: "stalled", issue: 10, cause: "stalled:10:1" })]);
    // Nothing more is asked for: the agent is left running for a person to look at.
    expect(stallSteps(decide(escalated, START + 600 * MIN))).toEqual([]);
    expect(escalated.issues[10]?.attempts).toHaveLength(1);
    expect(reportRows(escalated)[0]?.stalls).toEqual({ nudged: 1, restarted: 1, escalated: 1 });
  });

  it("starts the clock again on any agent activity; after a restart the next silence is nudged, then needs you", () => {
    const events = run(15);
    takeStep(events, 15 * MIN);
    events.push({ type: "AgentActive", at: at(20 * MIN), issue: 10, attempt: 1 });
    expect(stallSteps(decide(stateAt(events), START + 34 * MIN))).toEqual([]);
    expect(takeStep(events, 35 * MIN)).toMatchObject({ type: "NudgeStalled", silentMinutes: 15 });
    takeStep(events, 50 * MIN); // restarted
    events.push({ type: "AgentActive", at: at(51 * MIN), issue: 10, attempt: 1 }); // the restarted agent starts
    expect(needsYou(stateAt(events))).toEqual([]);
    expect(takeStep(events, 66 * MIN)).toMatchObject({ type: "NudgeStalled" });
    expect(takeStep(events, 81 * MIN)).toMatchObject({ type: "EscalateStall" });
    // The agent speaks again: it no longer needs you.
    events.push({ type: "AgentActive", at: at(90 * MIN), issue: 10, attempt: 1 });
    expect(needsYou(stateAt(events))).toEqual([]);
  });

  it("takes no step when the agent was active after all (the step's look), nor while the account is parked, nor after the attempt ended", () => {
    const events = run(0.05);
    const [nudge] = stallSteps(decide(stateAt(events), START + 3_000));
    if (nudge?.type !== "NudgeStalled") throw new Error("expected a nudge");
    events.push(...outcomeEvents(nudge, { active: true }, at(3_000)));
    expect(stallSteps(decide(stateAt(events), START + 5_999))).toEqual([]);
    expect(stallSteps(decide(stateAt(events), START + 6_000))).toMatchObject([{ type: "NudgeStalled" }]);
    const parked = [...events, { type: "RateLimited", at: at(4_000), issue: 10, attempt: 1, until: at(3_600_000), account: "claude", resetsAt: null, message: null } as const];
    expect(stallSteps(decide(stateAt(parked), START + 60_000))).toEqual([]);
    expect(stallSteps(decide(stateAt([...events, { type: "Skipped", at: at(4_000), issue: 10, reason: "no" }]), START + 60_000))).toEqual([]);
  });

  it("is off for a run recorded before stalls were watched", () => {
    const events = run(undefined);
    expect(stallSteps(decide(stateAt(events), START + 24 * 60 * MIN))).toEqual([]);
    expect(nextWakeAt(stateAt(events))).toBeNull();
  });

  it("keeps a step recorded twice as one", () => {
    const events = run(15);
    takeStep(events, 15 * MIN);
    const once = stateAt(events);
    expect(stateAt([...events, events.at(-1) as CoordinatorEvent])).toEqual(once);
    expect(once.issues[10]?.stalls).toEqual({ nudged: 1, restarted: 0, escalated: 0 });
  });
});
