import { describe, expect, it } from "vitest";
import type { ReportOutcome, WorkerReport } from "../agents/worker-status.ts";
import type { Action } from "./actions.ts";
import { decide, explain, nextWakeAt } from "./decide.ts";
import type { CoordinatorEvent } from "./events.ts";
import { runReport } from "./report.ts";
import { replay, type CoordinatorState } from "./state.ts";
import { parkUntil, UNKNOWN_RESET_WAIT_MS, USAGE_LIMIT_MARGIN_MS } from "./usage-limits.ts";
import type { RunSettings } from "./vocabulary.ts";

// The rules with a fake clock: every time is T0 plus seconds, and `decide` is asked at a given time.
const FEATURE = "feature/limits";
const T0 = Date.parse("2030-01-01T00:00:00.000Z");
const at = (second: number): string => new Date(T0 + second * 1000).toISOString();
const RESET = at(3600);
const BACK = T0 + 3600_000 + USAGE_LIMIT_MARGIN_MS;

function started(numbers: number[], settings: Partial<RunSettings> = {}): CoordinatorEvent[] {
  const full: RunSettings = { featureBranch: FEATURE, maxParallel: 4, maxAttempts: 2, review: false, stacking: true, verify: { all: null, e2e: null }, ...settings };
  return [
    { type: "RunStarted", at: at(0), runId: "r1", selected: numbers, graph: { nodes: numbers.map((n) => ({ number: n, dependencies: [], external: [] })), order: numbers }, settings: full },
    { type: "IssuesLoaded", at: at(0), issues: numbers.map((n) => ({ number: n, title: `Issue ${n}`, state: "open", url: null })), external: [] },
    ...numbers.map((n): CoordinatorEvent => ({ type: "Warmed", at: at(0), issue: n, instance: `issue-${n}` })),
  ];
}

const launched = (n: number, attempt: number, second: number): CoordinatorEvent => ({
  type: "Launched", at: at(second), issue: n, attempt, why: "initial", prompt: { kind: "implementer" }, base: FEATURE, baseSha: attempt === 1 ? "f0" : null, headSha: null,
});

function reported(n: number, attempt: number, second: number, outcome: ReportOutcome, fields: Partial<WorkerReport> = {}): CoordinatorEvent {
  const report: WorkerReport = {
    id: `r${n}-${attempt}`, instance: `issue-${n}`, outcome, exitCode: outcome === "success" ? 0 : 1, signal: null, branch: `issue-${n}`, base: FEATURE,
    headSha: outcome === "success" ? `h${n}-${attempt}` : null, commitsAhead: outcome === "success" ? 1 : 0, summary: "…", blockedReason: null,
    turns: 2, costUsd: 0.25, sessionId: null, startedAt: at(second - 1), endedAt: at(second), ...fields,
  };
  return { type: "Reported", at: at(second), issue: n, attempt, report };
}

/** What the runtime records for a report that met the limit: the report, then the account parked. */
function limited(n: number, attempt: number, second: number, resetsAt: string | null = RESET): CoordinatorEvent[] {
  const usageLimit = { resetsAt, kind: "five_hour", message: "You've hit your 5-hour limit · resets 1am (UTC)" };
  return [
    reported(n, attempt, second, "failure", { usageLimit, summary: usageLimit.message }),
    { type: "RateLimited", at: at(second), issue: n, attempt, until: parkUntil(resetsAt, T0 + second * 1000), account: "claude via ANTHROPIC_API_KEY", resetsAt, message: usageLimit.message },
  ];
}

const state = (...events: (CoordinatorEvent | CoordinatorEvent[])[]): CoordinatorState => replay(events.flat());
const launches = (s: CoordinatorState, now: number, inFlight: Action[] = []): number[] =>
  decide(s, now, inFlight).flatMap((action) => (action.type === "Launch" ? [action.issue] : []));

describe("a usage limit parks the agent's account", () => {
  it("ends the attempt without counting it, and holds every launch until the reset plus the margin", () => {
    const s = state(started([1, 2, 3]), launched(1, 1, 5), limited(1, 1, 60));
    const attempt = s.issues[1]?.attempts[0];
    expect(attempt).toMatchObject({ end: "rate-limited", failure: null, costUsd: 0.25 });
    // Not a failure: no retry, no failure counted, the same prompt waits.
    expect(explain(s, BACK).filter((d) => d.rule === "retryFailure" || d.rule === "failAfterMaxAttempts")).toEqual([]);
    expect(s.issues[1]?.pending).toEqual({ kind: "implementer" });
    // #2 and #3 never started: the account is parked for them too.
    expect(launches(s, T0 + 61_000)).toEqual([]);
    expect(launches(s, BACK - 1)).toEqual([]);
    expect(nextWakeAt(s)).toBe(BACK);
    expect(s.issues[1]?.status).toMatchObject({ kind: "rate-limited", until: new Date(BACK).toISOString() });
    expect(s.issues[2]?.status.reason).toContain("parked by its usage limit");
  });

  it("lets one launch probe the account after the reset, and the rest follow once it reports without the limit", () => {
    const parked = state(started([1, 2, 3]), launched(1, 1, 5), limited(1, 1, 60));
    const probeDecided = launches(parked, BACK);
    expect(probeDecided).toEqual([1]);
    // While the probe's launch is in flight, nothing else starts.
    const inFlight = decide(parked, BACK).filter((action) => action.type === "Launch");
    expect(launches(parked, BACK, inFlight)).toEqual([]);
    const probing = state(started([1, 2, 3]), launched(1, 1, 5), limited(1, 1, 60), launched(1, 2, 3722));
    expect(probing.parked?.probe).toEqual({ issue: 1, attempt: 2 });
    expect(launches(probing, BACK + 60_000)).toEqual([]);
    const back = state(started([1, 2, 3]), launched(1, 1, 5), limited(1, 1, 60), launched(1, 2, 3722), reported(1, 2, 3800, "success"));
    expect(back.parked).toBeNull();
    expect(launches(back, BACK + 80_000)).toEqual([2, 3]);
    // The parked time: the issue's (limit to its relaunch) and the run's (first limit to the probe's report).
    const report = runReport(back);
    expect(report.rows.find((row) => row.issue === 1)).toMatchObject({ attempts: 1, failedAttempts: 0, parkedMs: (3722 - 60) * 1000 });
    expect(report.parkedMs).toBe((3800 - 60) * 1000);
  });

  it("parks again when the probe meets the limit too, and after a lost probe lets another launch probe", () => {
    const base = [started([1, 2]), launched(1, 1, 5), limited(1, 1, 60), launched(1, 2, 3722)];
    const again = state(...base, limited(1, 2, 3730, at(9000)));
    expect(again.parked).toMatchObject({ probe: null, until: new Date(T0 + 9_000_000 + USAGE_LIMIT_MARGIN_MS).toISOString() });
    expect(launches(again, BACK + 60_000)).toEqual([]);
    expect(again.issues[1]?.attempts.map((a) => a.end)).toEqual(["rate-limited", "rate-limited"]);
    const lost = state(...base, { type: "WorkerLost", at: at(3730), issue: 1, attempt: 2, reason: "container exited (137)" });
    expect(lost.parked?.probe).toBeNull();
  });

  it("extends the park when a worker that was already running meets the limit later", () => {
    const s = state(started([1, 2]), launched(1, 1, 5), launched(2, 1, 6), limited(1, 1, 60), limited(2, 1, 120, at(7200)));
    expect(s.parked?.until).toBe(new Date(T0 + 7_200_000 + USAGE_LIMIT_MARGIN_MS).toISOString());
    expect(s.parked?.since).toBe(at(60));
    expect(launches(s, BACK)).toEqual([]);
  });

  it("guesses a wait when the agent gives no reset time (Codex, Gemini)", () => {
    expect(parkUntil(null, T0)).toBe(new Date(T0 + UNKNOWN_RESET_WAIT_MS).toISOString());
    expect(parkUntil(at(-300), T0)).toBe(at(0));
  });

  it('with coordinator.onUsageLimit "fail", fails the limited issue and those that would start, with the reason', () => {
    const s = state(started([1, 2], { onUsageLimit: "fail" }), launched(1, 1, 5), limited(1, 1, 60));
    const failed = explain(s, T0 + 61_000).filter((d) => d.rule === "failOnUsageLimit").map((d) => d.action);
    expect(failed).toEqual([
      { type: "Fail", issue: 1, reason: expect.stringContaining('claude via ANTHROPIC_API_KEY hit its usage limit') as string },
      { type: "Fail", issue: 2, reason: expect.stringContaining('coordinator.onUsageLimit is "fail"') as string },
    ]);
  });

  it("a failure without a usage limit is still a failure", () => {
    const s = state(started([1]), launched(1, 1, 5), reported(1, 1, 60, "failure"));
    expect(s.parked).toBeNull();
    expect(s.issues[1]?.attempts[0]?.failure?.kind).toBe("agent-exit");
  });
});
