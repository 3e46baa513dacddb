import { describe, expect, it } from "vitest";
import type { WorkerReport } from "../agents/worker-status.ts";
import { decide, explain } from "./decide.ts";
import type { CoordinatorEvent } from "./events.ts";
import { runReport } from "./report.ts";
import { replay, type CoordinatorState } from "./state.ts";
import type { RunSettings } from "./vocabulary.ts";

const FEATURE = "feature/budget";
const T0 = Date.parse("2030-01-01T00:00:00.000Z");
const at = (second: number): string => new Date(T0 + second * 1000).toISOString();

function started(numbers: number[], budget: { run: number | null; issue: number | null }): CoordinatorEvent[] {
  const settings: RunSettings = { featureBranch: FEATURE, maxParallel: 1, maxAttempts: 3, review: false, stacking: true, verify: { all: null, e2e: null } };
  return [
    { type: "RunStarted", at: at(0), runId: "r1", selected: numbers, graph: { nodes: numbers.map((n) => ({ number: n, dependencies: [], external: [] })), order: numbers }, settings },
    { type: "IssuesLoaded", at: at(0), issues: numbers.map((n) => ({ number: n, title: `Issue ${n}`, state: "open", url: null })), external: [] },
    { type: "BudgetSet", at: at(0), ...budget },
    ...numbers.map((n): CoordinatorEvent => ({ type: "Warmed", at: at(0), issue: n, instance: `issue-${n}` })),
  ];
}

const launched = (n: number, attempt: number): CoordinatorEvent => ({
  type: "Launched", at: at(10), issue: n, attempt, why: attempt === 1 ? "initial" : "retry", prompt: { kind: "implementer" }, base: FEATURE, baseSha: "f0", headSha: null,
});

function failedWithCost(n: number, attempt: number, costUsd: number, fields: Partial<WorkerReport> = {}): CoordinatorEvent {
  const report: WorkerReport = {
    id: `r${n}-${attempt}`, instance: `issue-${n}`, outcome: "failure", exitCode: 1, signal: null, branch: `issue-${n}`, base: FEATURE, headSha: null,
    commitsAhead: 0, summary: "tests fail", blockedReason: null, turns: 3, costUsd, sessionId: null, startedAt: at(10), endedAt: at(20), ...fields,
  };
  return { type: "Reported", at: at(20), issue: n, attempt, report };
}

const state = (...events: (CoordinatorEvent | CoordinatorEvent[])[]): CoordinatorState => replay(events.flat());

describe("coordinator.budget", () => {
  it("fails an issue that spent its budget once its agent is done, instead of retrying it", () => {
    const s = state(started([1], { run: null, issue: 2 }), launched(1, 1), failedWithCost(1, 1, 2.4));
    const decisions = explain(s, T0 + 60_000);
    expect(decisions.map((d) => d.rule)).toEqual(["failOverBudget"]);
    expect(decisions[0]?.action).toEqual({ type: "Fail", issue: 1, reason: "over budget: it spent $2.40 of its $2.00 budget (coordinator.budget.issue)" });
    // Under its budget, the same failure is retried as before.
    const under = state(started([1], { run: null, issue: 5 }), launched(1, 1), failedWithCost(1, 1, 2.4));
    expect(explain(under, T0 + 60_000).map((d) => d.rule)).toEqual(["retryFailure"]);
  });

  it("starts no agent once the run spent its budget, says why, and starts again when the budget is raised", () => {
    const over = state(started([1, 2], { run: 1, issue: null }), launched(1, 1), failedWithCost(1, 1, 1.5));
    expect(decide(over, T0 + 60_000).filter((a) => a.type === "Launch" || a.type === "Retry")).toEqual([
      expect.objectContaining({ type: "Retry", issue: 1 }),
    ]);
    const retried = state(started([1, 2], { run: 1, issue: null }), launched(1, 1), failedWithCost(1, 1, 1.5), {
      type: "Retried", at: at(21), issue: 1, attempt: 1, failure: { kind: "agent-exit", summary: "x", command: null, output: null },
      prompt: { kind: "retry", attempt: 2, maxAttempts: 3, failure: { kind: "agent-exit", summary: "x", command: null, output: null } },
    });
    expect(decide(retried, T0 + 60_000).filter((a) => a.type === "Launch")).toEqual([]);
    expect(retried.issues[2]?.status.reason).toContain("the run spent $1.50 of its $1.00 budget");
    expect(runReport(retried).overBudget).toContain("coordinator.budget.run");
    const raised = state(started([1, 2], { run: 1, issue: null }), launched(1, 1), failedWithCost(1, 1, 1.5), { type: "BudgetSet", at: at(30), run: 10, issue: null });
    expect(raised.budget).toEqual({ run: 10, issue: null });
    expect(runReport(raised).overBudget).toBeNull();
  });

  it("counts both runs of an attempt carried on by cspace restart, each report its own run's share", () => {
    const restarted = failedWithCost(1, 1, 0.6, { id: "r1-1a", outcome: "interrupted", exitCode: null, signal: "SIGTERM", restarted: true });
    const s = state(started([1], { run: null, issue: 1 }), launched(1, 1), restarted, failedWithCost(1, 1, 0.6));
    expect(s.issues[1]?.attempts[0]?.costUsd).toBeCloseTo(1.2);
    expect(explain(s, T0 + 60_000)[0]?.action).toEqual({ type: "Fail", issue: 1, reason: "over budget: it spent $1.20 of its $1.00 budget (coordinator.budget.issue)" });
  });

  it("stops a running agent once what it spent so far passes the issue's budget, and counts its report once", () => {
    const spending = (attempt: number, costUsd: number, since = at(10)): CoordinatorEvent => ({ type: "Spending", at: at(15), issue: 1, attempt, since, turns: 2, costUsd });
    const running = state(started([1], { run: null, issue: 2 }), launched(1, 1), spending(1, 1.5));
    expect(explain(running, T0 + 60_000).map((d) => d.rule)).toEqual([]);
    const over = state(started([1], { run: null, issue: 2 }), launched(1, 1), spending(1, 1.5), spending(1, 2.4));
    const decisions = explain(over, T0 + 60_000);
    expect(decisions.map((d) => d.rule)).toEqual(["stopOverBudget"]);
    expect(decisions[0]?.action).toEqual({ type: "Fail", issue: 1, reason: "over budget: it spent $2.40 of its $2.00 budget (coordinator.budget.issue); its agent was stopped" });
    // The run's budget sees it too: no other agent starts meanwhile.
    expect(runReport(state(started([1, 2], { run: 2, issue: null }), launched(1, 1), spending(1, 2.4))).overBudget).toContain("$2.40 of its $2.00");
    // Its interrupted report holds what it spent: counted once, not again on top of the polled figure.
    const stopped = state(
      started([1], { run: null, issue: 2 }), launched(1, 1), spending(1, 2.4),
      { type: "Failed", at: at(16), issue: 1, reason: "over budget" },
      failedWithCost(1, 1, 2.5, { outcome: "interrupted", exitCode: null, signal: "SIGINT" }),
    );
    expect(stopped.issues[1]?.outcome?.kind).toBe("failed");
    expect(stopped.issues[1]?.attempts[0]?.end).toBe("interrupted");
    expect(runReport(stopped).totals.costUsd).toBe(2.5);
    // A poll that comes after the report changes nothing.
    expect(replay([spending(1, 9)], stopped)).toBe(stopped);
  });

  it("does not count a restarted attempt's first run twice when a poll of it comes after its report", () => {
    const restarted = failedWithCost(1, 1, 0.6, { id: "r1-1a", outcome: "interrupted", exitCode: null, signal: "SIGTERM", restarted: true, startedAt: at(10), endedAt: at(20) });
    const stale: CoordinatorEvent = { type: "Spending", at: at(21), issue: 1, attempt: 1, since: at(10), turns: 2, costUsd: 0.6 };
    const fresh: CoordinatorEvent = { type: "Spending", at: at(40), issue: 1, attempt: 1, since: at(30), turns: 1, costUsd: 0.3 };
    const s = state(started([1], { run: null, issue: 1 }), launched(1, 1), restarted, stale);
    expect(runReport(s).overBudget).toBeNull();
    expect(explain(s, T0 + 60_000).map((d) => d.rule)).toEqual([]);
    const later = replay([fresh], s);
    expect(explain(later, T0 + 60_000).map((d) => d.rule)).toEqual([]);
    expect(explain(replay([{ ...fresh, costUsd: 0.45 }], s), T0 + 60_000).map((d) => d.rule)).toEqual(["stopOverBudget"]);
  });
});
