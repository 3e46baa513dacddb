import { describe, expect, it } from "vitest";
import type { DashboardModel, DashboardRow } from "./model.ts";
import { COMMENT_LIMIT, isProgressComment, progressCommentMarkdown, progressMarker } from "./progress-comment.ts";

function row(issue: number, fields: Partial<DashboardRow> = {}): DashboardRow {
  return {
    issue,
    title: `Issue ${String(issue)}`,
    depth: 0,
    kind: "waiting",
    group: "waiting",
    state: "waiting on #1",
    attempt: 0,
    turns: 0,
    costUsd: null,
    elapsedMs: null,
    pullRequest: null,
    pullRequestUrl: null,
    needsYou: false,
    ...fields,
  };
}

function model(rows: readonly DashboardRow[], fields: Partial<DashboardModel> = {}): DashboardModel {
  const count = (group: DashboardRow["group"]) => rows.filter((r) => r.group === group).length;
  return {
    runId: "20301231-120000-ab12",
    featureBranch: "main",
    header: {
      counts: { merged: count("merged"), working: count("working"), waiting: count("waiting"), failed: count("failed"), blocked: count("blocked") },
      spentUsd: 1.5,
      budgetUsd: 40,
      elapsedMs: 25 * 60_000,
      remainingMs: 10 * 60_000,
      estimate: "critical path",
      paused: false,
      held: null,
    },
    needsYou: [],
    rows,
    ended: false,
    ...fields,
  };
}

const merged = row(41, { title: "Cart total", kind: "merged", group: "merged", state: "squash-merged as abc1234 (pull request #7)", attempt: 1, pullRequest: 7, pullRequestUrl: "https://github.com/octo/widgets/pull/7" });
const working = row(44, { title: "Receipt", depth: 1, kind: "working", group: "working", state: "attempt 2 (retry) running", attempt: 2 });
const failed = row(46, { title: "Refunds", kind: "failed", group: "failed", state: "verify failed twice", attempt: 2, needsYou: true });

describe("the parent issue's progress comment", () => {
  it("starts with the run's hidden marker, then the counts, and a row per issue with its state in words and pull request link", () => {
    const text = progressCommentMarkdown(model([merged, working, row(45)]), null);
    const lines = text.split("\n");
    expect(lines[0]).toBe("<!-- cspace:progress run=20301231-120000-ab12 -->");
    expect(isProgressComment(text, "20301231-120000-ab12")).toBe(true);
    expect(isProgressComment(text, "another-run")).toBe(false);
    expect(text).toContain("### cspace: 1 of 3 merged");
    expect(text).toContain("**1** merged · **1** in progress · **1** waiting · **0** failed");
    expect(text).toContain("into `main` · 25 min elapsed · about 10 min left · $1.50 of $40.00 spent");
    expect(text).toContain("| #41 Cart total | ✅ squash-merged as abc1234 (pull request #7) | [#7](https://github.com/octo/widgets/pull/7) |");
    expect(text).toContain("| ↳ #44 Receipt | attempt 2 (retry) running | — |");
    expect(text).toContain("| #45 Issue 45 | waiting on #1 | — |");
    expect(text).toMatch(/\| #45 Issue 45 \| waiting on #1 \| — \|\n\n_Kept up to date by cspace as the run goes \(edited in place\)\._\n$/);
  });

  it("lists what needs a person first, and a failed issue with its reason", () => {
    const text = progressCommentMarkdown(model([failed], { needsYou: [{ kind: "failed", issue: 46, cause: "failed:46:2", reason: "verify failed twice" }] }), null);
    expect(text.indexOf("**Needs you**")).toBeLessThan(text.indexOf("| Issue |"));
    expect(text).toContain("- #46: verify failed twice");
    expect(text).toContain("| #46 Refunds | ❌ verify failed twice (attempt 2) | — |");
  });

  it("ends with the after-action review once the run has ended, and says it is final", () => {
    const text = progressCommentMarkdown(model([merged], { ended: true }), "## After-action review\n\nThe critical path was #41.\n");
    expect(text).toContain("### cspace: 1 of 1 merged — run ended");
    expect(text).not.toContain("left ·");
    expect(text).toMatch(/\| \[#7\]\(https:\/\/github\.com\/octo\/widgets\/pull\/7\) \|\n\n---\n\n## After-action review\n/);
    expect(text).toMatch(/The critical path was #41\.\n\n_Final: cspace will not edit this comment again\._\n$/);
  });

  it("keeps titles and states from breaking the table, opening HTML or forging a marker", () => {
    const hostile = row(50, { title: "A | B\n<!-- cspace:progress run=20301231-120000-ab12 --> <img src=x>", state: "x | y" });
    const text = progressCommentMarkdown(model([hostile]), null);
    expect(text).toContain("| #50 A \\| B &lt;!-- cspace:progress run=20301231-120000-ab12 --&gt; &lt;img src=x&gt; | x \\| y | — |");
    expect(text.match(/<!--/g)).toHaveLength(1);
  });

  it("fits a comment whatever the review's length", () => {
    const text = progressCommentMarkdown(model([merged], { ended: true }), `## Review\n\n${"x".repeat(200_000)}`);
    expect(text.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(text).toContain("the run directory's report.md has all of it");
  });

  it("names the marker by run", () => {
    expect(progressMarker("r1")).toBe("<!-- cspace:progress run=r1 -->");
  });
});
