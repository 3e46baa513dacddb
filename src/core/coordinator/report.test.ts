import { describe, expect, it } from "vitest";
import { exitCodeOf, reportRows, runReport } from "./report.ts";
import { simulate } from "./simulate.ts";

describe("the final report", () => {
  it("has a row per issue: pull request, the base it started on, status, attempts, turns, cost, wall time", () => {
    const { state } = simulate({
      issues: { 10: [], 12: [10], 13: [] },
      settings: { maxAttempts: 1 },
      scripts: { 12: { attempts: ["crash"] } },
    });
    const rows = reportRows(state);
    expect(rows.map(({ issue, pullRequest, base, status, attempts, failedAttempts, turns, costUsd }) => ({ issue, pullRequest, base, status, attempts, failedAttempts, turns, costUsd }))).toEqual([
      { issue: 10, pullRequest: 110, base: "feature/sim", status: "merged", attempts: 1, failedAttempts: 0, turns: 3, costUsd: 0.25 },
      { issue: 12, pullRequest: null, base: "issue-10", status: "failed", attempts: 1, failedAttempts: 1, turns: 3, costUsd: 0.25 },
      { issue: 13, pullRequest: 113, base: "feature/sim", status: "merged", attempts: 1, failedAttempts: 0, turns: 3, costUsd: 0.25 },
    ]);
    const ten = state.issues[10];
    expect(rows[0]?.wallMs).toBe(Date.parse(ten?.merge?.mergedAt ?? "") - Date.parse(ten?.attempts[0]?.startedAt ?? ""));
    expect(rows[0]?.squashSha).toBe(ten?.merge?.squashSha);
    expect(rows[1]?.reason).toBe("1 of 1 attempts failed; the last: the agent was killed by SIGKILL");
  });

  it("totals the run and applies the exit code rule: 0 only when every issue merged", () => {
    const failing = simulate({ issues: { 10: [], 11: [] }, settings: { maxAttempts: 1 }, scripts: { 11: { warm: "fail" } } }).state;
    expect(runReport(failing)).toMatchObject({ runId: "sim", featureBranch: "feature/sim", exitCode: 1, totals: { merged: 1, failed: 1, blocked: 0, turns: 3, costUsd: 0.25 } });
    expect(runReport(failing).wallMs).toBeGreaterThan(0);
    const clean = simulate({ issues: { 9: [], 10: [9] }, closed: [9] }).state;
    expect(exitCodeOf(clean)).toBe(0);
    expect(reportRows(clean).map((row) => [row.issue, row.status, row.attempts, row.base, row.wallMs])).toEqual([
      [9, "merged", 0, null, null],
      [10, "merged", 1, "feature/sim", expect.any(Number)],
    ]);
  });
});
