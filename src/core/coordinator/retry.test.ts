import { describe, expect, it } from "vitest";
import type { CoordinatorEvent } from "./events.ts";
import { operatorDone, operatorEvent, parseOperatorCommand } from "./operator.ts";
import { decide } from "./decide.ts";
import { operatorOnce, simulate } from "./simulate.ts";
import { replay, type CoordinatorState } from "./state.ts";
import { OPERATOR_USAGE } from "./operator.ts";
import { needsYou } from "./needs-you.ts";

const AT = "2030-01-01T00:00:00.000Z";
const NOW = Date.parse(AT);

/** A run of #10 and #12 (#12 depends on #10), maxAttempts 2. */
const start = [
  {
    type: "RunStarted",
    at: AT,
    runId: "r1",
    selected: [10, 12, 14],
    graph: {
      nodes: [
        { number: 10, dependencies: [], external: [] },
        { number: 12, dependencies: [10], external: [] },
        { number: 14, dependencies: [12], external: [] },
      ],
      order: [10, 12, 14],
    },
    settings: { featureBranch: "main", maxParallel: 2, maxAttempts: 2, review: false, stacking: false, verify: { all: null, e2e: null } },
  },
  { type: "IssuesLoaded", at: AT, issues: [10, 12, 14].map((n) => ({ number: n, title: `Issue ${String(n)}`, state: "open" as const, url: null })), external: [] },
  { type: "Warmed", at: AT, issue: 10, instance: "issue-10" },
  { type: "Warmed", at: AT, issue: 12, instance: "issue-12" },
  { type: "Warmed", at: AT, issue: 14, instance: "issue-14" },
] as const satisfies readonly CoordinatorEvent[];

function launched(attempt: number, why: "initial" | "retry" = "initial"): CoordinatorEvent {
  const prompt = why === "initial" ? { kind: "implementer" as const } : { kind: "retry" as const, attempt, maxAttempts: 2, failure: { kind: "agent-exit" as const, summary: "x", command: null, output: null } };
  return { type: "Launched", at: AT, issue: 10, attempt, why, prompt, base: "main", baseSha: attempt === 1 ? "m0" : null, headSha: "m0" };
}

function report(attempt: number, outcome: "failure" | "blocked" | "interrupted", extra: { blockedReason?: string } = {}): CoordinatorEvent {
  return {
    type: "Reported",
    at: AT,
    issue: 10,
    attempt,
    report: {
      id: `r-${String(attempt)}-${outcome}`,
      instance: "issue-10",
      outcome,
      exitCode: outcome === "failure" ? 1 : null,
      signal: null,
      branch: "issue-10",
      base: "main",
      headSha: "m0",
      commitsAhead: 0,
      summary: `run ${String(attempt)}: npm test exited 1`,
      blockedReason: extra.blockedReason ?? null,
      turns: 1,
      costUsd: null,
      sessionId: null,
      startedAt: AT,
      endedAt: AT,
    },
  };
}

/** #10 failed both attempts; #12 and #14 are blocked behind it. */
const failedTwice: readonly CoordinatorEvent[] = [
  ...start,
  launched(1),
  report(1, "failure"),
  { type: "Retried", at: AT, issue: 10, attempt: 1, failure: { kind: "agent-exit", summary: "the agent exited with code 1", command: null, output: "run 1" }, prompt: { kind: "retry", attempt: 2, maxAttempts: 2, failure: { kind: "agent-exit", summary: "the agent exited with code 1", command: null, output: "run 1" } } },
  launched(2, "retry"),
  report(2, "failure"),
  { type: "Failed", at: AT, issue: 10, reason: "2 of 2 attempts failed; the last: the agent exited with code 1" },
  { type: "Blocked", at: AT, issue: 12, by: { kind: "dependency", issue: 10 }, reason: "dependency #10 failed" },
  { type: "Blocked", at: AT, issue: 14, by: { kind: "dependency", issue: 12 }, reason: "dependency #12 is blocked" },
];

function retry(state: CoordinatorState, issue: number): CoordinatorEvent {
  const recorded = operatorEvent(state, { kind: "retry", issue }, AT);
  if (!recorded.ok) throw new Error(recorded.error);
  return recorded.value;
}

describe("retry N (the operator gives a stopped issue a fresh attempt)", () => {
  it("reads retry with exactly one issue number, and lists it among the commands", () => {
    expect(parseOperatorCommand("retry 12")).toEqual({ ok: true, value: { kind: "retry", issue: 12 } });
    expect(parseOperatorCommand("Retry #12")).toEqual({ ok: true, value: { kind: "retry", issue: 12 } });
    expect(parseOperatorCommand("retry")).toEqual({ ok: false, error: 'retry takes one issue number, like "retry 12"' });
    expect(parseOperatorCommand("retry 12 now")).toEqual({ ok: false, error: 'retry takes one issue number, like "retry 12"' });
    expect(OPERATOR_USAGE).toContain("retry <N>");
  });

  it("relaunches a failed issue with the retry template and its last failure, with maxAttempts more, and unblocks what waited on it", () => {
    const before = replay(failedTwice);
    const event = retry(before, 10);
    expect(event).toMatchObject({ type: "RetryRequested", issue: 10, unblocks: [12, 14] });
    const after = replay([...failedTwice, event]);
    const ten = after.issues[10];
    expect(ten?.outcome).toBeNull();
    expect(ten?.status.kind).toBe("ready");
    expect(after.issues[12]?.outcome).toBeNull();
    expect(after.issues[14]?.outcome).toBeNull();
    expect(after.issues[12]?.status.kind).toBe("waiting");
    expect(needsYou(after)).toEqual([]);
    const launch = decide(after, NOW).find((action) => action.type === "Launch");
    expect(launch).toMatchObject({
      issue: 10,
      attempt: 3,
      prompt: { kind: "retry", attempt: 1, maxAttempts: 2, failure: { kind: "agent-exit", summary: "the agent exited with code 1", output: "run 2: npm test exited 1" } },
    });
    // The fresh budget: one more failure is retried (not failed at once), the second fails it again.
    const third = [...failedTwice, event, launched(3, "retry"), report(3, "failure")];
    expect(decide(replay(third), NOW).map((action) => action.type)).toEqual(["Retry"]);
    expect(operatorDone({ kind: "retry", issue: 10 })).toBe("#10 gets a fresh attempt (and coordinator.maxAttempts more); its dependents blocked by it are unblocked");
  });

  it("relaunches an issue its worker blocked, telling the agent why it stopped, and does not block it again on that old report", () => {
    const blocked = [...start, launched(1), report(1, "blocked", { blockedReason: "the schema is not decided" }), { type: "Blocked", at: AT, issue: 10, by: { kind: "worker" }, reason: "the worker is blocked: the schema is not decided" }] as const satisfies readonly CoordinatorEvent[];
    const event = retry(replay(blocked), 10);
    expect(event).toMatchObject({ prompt: { kind: "retry", attempt: 1, failure: { kind: "stopped", summary: "You stopped with `cspace blocked`: the schema is not decided" } } });
    const after = replay([...blocked, event]);
    const actions = decide(after, NOW);
    expect(actions.map((action) => action.type)).not.toContain("Block");
    expect(actions.find((action) => action.type === "Launch")).toMatchObject({ issue: 10, attempt: 2 });
  });

  it("relaunches a skipped issue once its agent has stopped, and one skipped before it started with its first prompt", () => {
    const skipped = [...start, launched(1), { type: "Skipped", at: AT, issue: 10, reason: "wrong approach" }] as const satisfies readonly CoordinatorEvent[];
    expect(operatorEvent(replay(skipped), { kind: "retry", issue: 10 }, AT)).toEqual({ ok: false, error: "#10's agent is still being stopped: retry once it has stopped (cspace status shows it)" });
    const stopped = [...skipped, report(1, "interrupted")];
    const event = retry(replay(stopped), 10);
    expect(event).toMatchObject({ prompt: { kind: "retry", failure: { kind: "stopped", summary: "The operator skipped it: wrong approach" } } });
    expect(decide(replay([...stopped, event]), NOW).find((action) => action.type === "Launch")).toMatchObject({ issue: 10, attempt: 2 });
    const never = [...start, { type: "Skipped", at: AT, issue: 12, reason: "later" }] as const satisfies readonly CoordinatorEvent[];
    const fresh = retry(replay(never), 12);
    expect(fresh).toMatchObject({ prompt: null, unblocks: [] });
    expect(replay([...never, fresh]).issues[12]?.status.kind).toBe("waiting");
  });

  it("refuses a merged, working or waiting issue, and one blocked by another, saying what it is doing", () => {
    const working = replay([...start, launched(1), launched(1)]);
    expect(operatorEvent(working, { kind: "retry", issue: 10 }, AT)).toEqual({ ok: false, error: "#10 is working (attempt 1): nothing to retry" });
    expect(operatorEvent(working, { kind: "retry", issue: 12 }, AT)).toMatchObject({ ok: false, error: expect.stringMatching(/^#12 is waiting \(waiting on #10.*\): nothing to retry$/) as string });
    const failed = replay(failedTwice);
    expect(operatorEvent(failed, { kind: "retry", issue: 14 }, AT)).toEqual({ ok: false, error: "#14 is blocked because #12 is: retry 12 instead, and #14 follows it" });
    expect(operatorEvent(failed, { kind: "retry", issue: 99 }, AT)).toEqual({ ok: false, error: "#99 is not in this run (#10, #12, #14)" });
    const merged = replay([...start, { type: "IssuesLoaded", at: AT, issues: [{ number: 10, title: "Issue 10", state: "closed", url: null }], external: [] }]);
    expect(operatorEvent(merged, { kind: "retry", issue: 10 }, AT)).toEqual({ ok: false, error: "#10 is merged: nothing to retry" });
  });

  it("is safe to repeat: a retry recorded twice gives one fresh attempt", () => {
    const event = retry(replay(failedTwice), 10);
    expect(replay([...failedTwice, event, event])).toEqual(replay([...failedTwice, event]));
  });
});

describe("retry N in a simulated run", () => {
  it("an issue that used its attempts merges after the operator retries it, and so does the issue that waited on it", () => {
    const person = operatorOnce("retry 1", (state) => state.issues[1]?.outcome?.kind === "failed");
    const result = simulate({ issues: { 1: [], 2: [1] }, scripts: { 1: { attempts: ["failure", "failure"] } }, operator: person.operator });
    expect(person.sent()).toBe(true);
    expect(result.finished).toBe(true);
    expect(result.state.finished?.exitCode).toBe(0);
    expect(result.state.issues[1]?.attempts.map((attempt) => attempt.why)).toEqual(["initial", "retry", "retry"]);
    expect(result.state.issues[1]?.attempts[2]?.prompt).toMatchObject({ kind: "retry", attempt: 1, failure: { kind: "agent-exit" } });
    expect(result.events.map((event) => event.type)).toContain("RetryRequested");
    expect(result.state.issues[2]?.status.kind).toBe("merged");
  });
});
