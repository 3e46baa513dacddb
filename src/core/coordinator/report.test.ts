import { describe, expect, it } from "vitest";
import { reportMarkdown } from "../coordinator-runtime/report-table.ts";
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

  it("made from the run's events, shows the wall time and each issue's time split, and the markdown ends with the review", () => {
    const { state, events } = simulate({ issues: { 12: [], 13: [12] }, settings: { stacking: false } });
    const report = runReport(state, [], events);
    expect(report.rows.map((row) => row.time?.totalMs)).toEqual([
      Date.parse(state.issues[12]?.merge?.mergedAt ?? "") - Date.parse(state.run?.startedAt ?? ""),
      Date.parse(state.issues[13]?.merge?.mergedAt ?? "") - Date.parse(state.run?.startedAt ?? ""),
    ]);
    const markdown = reportMarkdown(report);
    expect(markdown).toMatch(/^Wall time: 1m\d\ds|^Wall time: \d+s/m);
    expect(markdown).toContain("## Where the time went");
    const review = markdown.indexOf("## After-action review");
    expect(review).toBeGreaterThan(markdown.indexOf("## Where the time went"));
    expect(markdown.slice(review).split("\n").filter((line) => line.startsWith("#"))).toEqual([
      "## After-action review",
      "### Critical path (what set the finish time)",
      "### What went wrong",
      "### What would have helped",
    ]);
    expect(markdown.trimEnd().split("\n").at(-1)).toMatch(/^- /);
    // From the state alone (cspace status): no time splits, no review.
    expect(runReport(state).review).toBeUndefined();
    expect(reportMarkdown(runReport(state))).not.toContain("After-action review");
  });
});
