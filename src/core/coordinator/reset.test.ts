import { describe, expect, it } from "vitest";
import type { Action } from "./actions.ts";
import { decide } from "./decide.ts";
import { eventLine, type CoordinatorEvent } from "./events.ts";
import { operatorDone, operatorEvent } from "./operator.ts";
import { operatorOnce, simulate } from "./simulate.ts";
import { replay, type CoordinatorState } from "./state.ts";

/**
 * `reset N` of an issue that has started in this run: its branch is
 * discarded and it starts again from the current base as a first launch
 * (issue 14, "A fresh start for an issue").
 */

const AT = "2030-01-01T00:00:00.000Z";
const NOW = Date.parse(AT);

/** #10; #12 depends on #10 (not stacked); maxAttempts 2, verify set. */
const start = [
  {
    type: "RunStarted",
    at: AT,
    runId: "r1",
    selected: [10, 12],
    graph: { nodes: [{ number: 10, dependencies: [], external: [] }, { number: 12, dependencies: [10], external: [] }], order: [10, 12] },
    settings: { featureBranch: "main", maxParallel: 2, maxAttempts: 2, review: false, stacking: false, verify: { all: "npm test", e2e: null } },
  },
  { type: "IssuesLoaded", at: AT, issues: [10, 12].map((n) => ({ number: n, title: `Issue ${String(n)}`, state: "open" as const, url: null })), external: [] },
  { type: "Warmed", at: AT, issue: 10, instance: "issue-10" },
  { type: "Warmed", at: AT, issue: 12, instance: "issue-12" },
] as const satisfies readonly CoordinatorEvent[];

const failure = { kind: "verify" as const, summary: "npm test exited 1", command: "npm test", output: "1 failing" };

function launched(attempt: number, extra: { why?: "initial" | "retry"; baseSha?: string | null; headSha?: string; start?: { kind: "new" | "fresh"; commits: number } } = {}): CoordinatorEvent {
  const why = extra.why ?? (attempt === 1 ? "initial" : "retry");
  const prompt = why === "initial" ? { kind: "implementer" as const } : { kind: "retry" as const, attempt, maxAttempts: 2, failure };
  return {
    type: "Launched",
    at: AT,
    issue: 10,
    attempt,
    why,
    prompt,
    base: "main",
    baseSha: extra.baseSha === undefined ? (attempt === 1 ? "m0" : null) : extra.baseSha,
    headSha: extra.headSha ?? "m0",
    ...(extra.start === undefined ? {} : { start: extra.start }),
  };
}

function report(attempt: number, outcome: "success" | "failure" | "interrupted", headSha: string): CoordinatorEvent {
  return {
    type: "Reported",
    at: AT,
    issue: 10,
    attempt,
    report: {
      id: `r-${String(attempt)}-${outcome}`,
      instance: "issue-10",
      outcome,
      exitCode: outcome === "success" ? 0 : outcome === "failure" ? 1 : null,
      signal: null,
      branch: "issue-10",
      base: "main",
      headSha,
      commitsAhead: 1,
      summary: `run ${String(attempt)}`,
      blockedReason: null,
      turns: 1,
      costUsd: 0.5,
      sessionId: null,
      startedAt: AT,
      endedAt: AT,
    },
  };
}

/** One attempt of #10: the agent committed a1, pushed, verify failed, the pull request opened. */
function attemptOf(attempt: number, head: string): CoordinatorEvent[] {
  return [
    report(attempt, "success", head),
    { type: "Pushed", at: AT, issue: 10, headSha: head, forced: false },
    { type: "VerifyFailed", at: AT, issue: 10, headSha: head, command: "npm test", exitCode: 1, outputTail: "1 failing" },
  ];
}

/** #10 failed both attempts on its bad approach (a1, then a2 on top); #12 is blocked behind it. */
const failedTwice: readonly CoordinatorEvent[] = [
  ...start,
  launched(1),
  ...attemptOf(1, "a1"),
  { type: "PullRequestOpened", at: AT, issue: 10, pr: 110, url: "pr/110", base: "main", headSha: "a1" },
  { type: "Retried", at: AT, issue: 10, attempt: 1, failure, prompt: { kind: "retry", attempt: 2, maxAttempts: 2, failure } },
  launched(2, { headSha: "a1" }),
  ...attemptOf(2, "a2"),
  { type: "Failed", at: AT, issue: 10, reason: "2 of 2 attempts failed; the last: npm test exited 1" },
  { type: "Blocked", at: AT, issue: 12, by: { kind: "dependency", issue: 10 }, reason: "dependency #10 failed" },
];

function reset(state: CoordinatorState, issue: number, inFlight: readonly Action[] = []): CoordinatorEvent {
  const recorded = operatorEvent(state, { kind: "reset", issue }, AT, inFlight);
  if (!recorded.ok) throw new Error(recorded.error);
  return recorded.value;
}

function launchOf(state: CoordinatorState): Action | undefined {
  return decide(state, NOW).find((action) => action.type === "Launch");
}

describe("reset N of a failed issue", () => {
  it("discards its work, unblocks its dependents, and starts it again from the base as a first launch, with maxAttempts more", () => {
    const before = replay(failedTwice);
    const event = reset(before, 10);
    expect(event).toEqual({ type: "ResetRequested", at: AT, issue: 10, attempt: null, unblocks: [12] });
    expect(eventLine(event)).toBe("#10 reset by the operator: its work is discarded and it starts again from its base; #12 no longer blocked");
    expect(operatorDone({ kind: "reset", issue: 10 }, event)).toBe(
      "#10 is reset: its work is discarded; it starts again from its base with the implementer prompt, and coordinator.maxAttempts more; #12 no longer blocked",
    );
    const after = replay([...failedTwice, event]);
    const ten = after.issues[10];
    expect(ten?.outcome).toBeNull();
    expect([ten?.status.kind, ten?.status.reason]).toEqual(["ready", "reset by the operator: starts on main (it has no dependencies); waits for a slot"]);
    expect(after.issues[12]?.outcome).toBeNull();
    // Nothing of the old work is pushed, verified, or opened again before the launch.
    expect(decide(after, NOW).map((action) => action.type)).toEqual(["Launch"]);
    // The normal first-attempt prompt, not the retry template with the old failure; the launch discards the branch.
    expect(launchOf(after)).toMatchObject({ issue: 10, attempt: 3, base: "main", stacked: false, prompt: { kind: "implementer" }, fresh: true });

    // The launch moved issue-10 back to main's head now (m1): that is where the branch starts, a rewrite of its history.
    const relaunched = launched(3, { why: "initial", baseSha: "m1", headSha: "m1", start: { kind: "fresh", commits: 2 } });
    expect(eventLine(relaunched)).toBe("#10 attempt 3 (initial) started on main at m1, reset: issue-10's 2 commits discarded");
    const third = replay([...failedTwice, event, relaunched]);
    const record = third.issues[10];
    expect([record?.base, record?.baseSha, record?.pushedSha, record?.headSha, record?.freshStart]).toEqual(["main", "m1", "m1", null, false]);
    expect(record?.generation).toBe((before.issues[10]?.generation ?? 0) + 1);
    expect(record?.status.kind).toBe("working");
    // Its fresh budget: one failure of the new work is retried, not failed at once; and the retry builds on the new work.
    const failedOnce = [...failedTwice, event, relaunched, ...attemptOf(3, "b1")];
    expect(decide(replay(failedOnce), NOW).filter((action) => action.type === "Retry")).toMatchObject([{ issue: 10, attempt: 3, prompt: { kind: "retry", attempt: 2, maxAttempts: 2 } }]);
  });

  it("is recorded once: the same reset applied twice changes nothing more, and a resume does not launch it twice", () => {
    const event = reset(replay(failedTwice), 10);
    expect(replay([...failedTwice, event, event])).toEqual(replay([...failedTwice, event]));
    const relaunched = launched(3, { why: "initial", baseSha: "m1", headSha: "m1", start: { kind: "fresh", commits: 2 } });
    // After its launch, the reset is done: a later launch is an ordinary one, not another discard.
    const state = replay([...failedTwice, event, relaunched, report(3, "failure", "m1")]);
    expect(state.issues[10]?.freshStart).toBe(false);
  });
});

describe("reset N of a working issue", () => {
  const working = [...start, launched(1)];

  it("stops its agent: the attempt stays open until its report, which is not taken, and the next launch starts from the base", () => {
    const event = reset(replay(working), 10);
    expect(event).toEqual({ type: "ResetRequested", at: AT, issue: 10, attempt: 1, unblocks: [] });
    expect(operatorDone({ kind: "reset", issue: 10 }, event)).toContain("#10 is reset: its work is discarded (attempt 1's agent is being stopped)");
    const stopping = replay([...working, event]);
    expect([stopping.issues[10]?.status.kind, stopping.issues[10]?.status.reason]).toEqual([
      "working",
      "attempt 1 being stopped: reset by the operator, it starts again from its base",
    ]);
    // Its slot is the agent's until it stops: no second agent in the worker.
    expect(launchOf(stopping)).toBeUndefined();

    // The agent finished its turn as it was stopped: its head is not pushed, and it is no failed attempt.
    const finished = replay([...working, event, report(1, "success", "a1")]);
    expect(finished.issues[10]?.headSha).toBeNull();
    expect(decide(finished, NOW).map((action) => action.type)).toEqual(["Launch"]);
    expect(launchOf(finished)).toMatchObject({ attempt: 2, prompt: { kind: "implementer" }, fresh: true, base: "main" });

    // Stopped by the interrupt: nothing decided about it either; a failure it reports is neither retried nor failed.
    for (const ending of [report(1, "interrupted", "a1"), report(1, "failure", "a1")]) {
      const stopped = replay([...working, event, ending]);
      expect(decide(stopped, NOW).map((action) => action.type)).toEqual(["Launch"]);
      expect(stopped.issues[10]?.pending).toEqual({ kind: "implementer" });
    }
  });

  it("refuses a merged or merging issue, one in the merge train, one whose branch or agent is on the move, saying why", () => {
    const pushedOpen = [...start, launched(1), report(1, "success", "a1"), { type: "Pushed", at: AT, issue: 10, headSha: "a1", forced: false }, { type: "PullRequestOpened", at: AT, issue: 10, pr: 110, url: "pr/110", base: "main", headSha: "a1" }] as const satisfies readonly CoordinatorEvent[];
    const state = replay(pushedOpen);
    const refused = (inFlight: Action, s: CoordinatorState = state): unknown => operatorEvent(s, { kind: "reset", issue: 10 }, AT, [inFlight]);
    expect(refused({ type: "VerifyLanding", issue: 10, instance: "issue-10", headSha: "a1", base: "main", epoch: 0, ahead: [], since: "m0", commands: ["npm test"] })).toEqual({
      ok: false,
      error: "#10's pull request is in the merge train (verifying its landing on main): reset once it has left it (it merges, or its verification fails), or skip it",
    });
    expect(refused({ type: "Push", issue: 10, branch: "issue-10", headSha: "a1", expectedSha: "m0", force: false })).toEqual({
      ok: false,
      error: "#10's branch is being moved on the forge (a push or restack under way): reset once it has landed, in a moment",
    });
    expect(refused({ type: "Merge", issue: 10, pr: 110, headSha: "a1", title: "Issue 10", stacked: [], verified: null })).toEqual({ ok: false, error: "#10's pull request is being merged: there is nothing to reset" });
    const merging = replay([...pushedOpen, { type: "MergeReady", at: AT, issue: 10, pr: 110, headSha: "a1", stacked: [] }]);
    expect(operatorEvent(merging, { kind: "reset", issue: 10 }, AT)).toEqual({ ok: false, error: "#10's pull request is being merged: there is nothing to reset" });
    const merged = replay([...pushedOpen, { type: "MergeReady", at: AT, issue: 10, pr: 110, headSha: "a1", stacked: [] }, { type: "Merged", at: AT, issue: 10, pr: 110, headSha: "a1", squashSha: "s1" }]);
    expect(operatorEvent(merged, { kind: "reset", issue: 10 }, AT)).toEqual({ ok: false, error: "#10 is merged: there is nothing to reset" });
    // A pull request waiting on its gates, not in the train, is reset.
    expect(operatorEvent(state, { kind: "reset", issue: 10 }, AT)).toMatchObject({ ok: true, value: { type: "ResetRequested", attempt: null } });
    // A dependent blocked behind a failed issue: reset that one.
    expect(operatorEvent(replay(failedTwice), { kind: "reset", issue: 12 }, AT)).toEqual({ ok: false, error: "#12 has ended in this run before it started (blocked): there is nothing to reset; retry 12 starts it" });
  });
});

describe("reset N in a simulated run", () => {
  it("an issue that used its attempts merges after the operator resets it, with the implementer prompt, and so does the issue that waited on it", () => {
    const person = operatorOnce("reset 1", (state) => state.issues[1]?.outcome?.kind === "failed");
    const result = simulate({ issues: { 1: [], 2: [1] }, scripts: { 1: { attempts: ["failure", "failure"] } }, operator: person.operator });
    expect(person.sent()).toBe(true);
    expect(result.state.finished?.exitCode).toBe(0);
    expect(result.events.map((event) => event.type)).toContain("ResetRequested");
    expect(result.state.issues[1]?.attempts.map((attempt) => [attempt.why, attempt.prompt.kind])).toEqual([
      ["initial", "implementer"],
      ["retry", "retry"],
      ["initial", "implementer"],
    ]);
    expect(result.state.issues[2]?.status.kind).toBe("merged");
  });

  it("a branch stacked on the reset issue is restacked off the discarded commits, and both merge", () => {
    let discarded: string | null = null;
    const result = simulate({
      issues: { 1: [], 2: [1] },
      operator: (state, at) => {
        const one = state.issues[1];
        const two = state.issues[2];
        // Once #2 builds on #1's pushed work, and before #1's merge starts, the operator starts #1 over.
        if (discarded !== null || one === undefined || two === undefined || two.stackedOn !== 1 || one.merge !== null || one.pushedSha === null) return [];
        const recorded = operatorEvent(state, { kind: "reset", issue: 1 }, at);
        if (!recorded.ok) return [];
        discarded = one.pushedSha;
        return [recorded.value];
      },
    });
    expect(discarded).not.toBeNull();
    expect(result.state.finished?.exitCode).toBe(0);
    const types = result.events.map((event) => `${event.type}:${"issue" in event ? String(event.issue) : ""}`);
    const resetAt = types.indexOf("ResetRequested:1");
    // #2 is moved off the commits the reset discarded: a restack from #1's old head.
    const restacks = result.events.slice(resetAt).filter((event) => event.type === "Restacked" && event.issue === 2);
    expect(restacks[0]).toMatchObject({ type: "Restacked", issue: 2, onto: "issue-1", from: discarded });
    expect(result.state.issues[1]?.attempts.map((attempt) => attempt.why)).toEqual(["initial", "initial"]);
    expect(["merged", "merged"]).toEqual([result.state.issues[1]?.status.kind, result.state.issues[2]?.status.kind]);
  });
});
