import { inject, describe, expect, it } from "vitest";
import { CLAUDE_IMAGE_DEVCONTAINER, claudeImageFiles } from "../support/claude-image.ts";
import { explain, issueFile, rowOf, useCoordinateProjects } from "../support/coordinate-project.ts";

/**
 * What a real run meets most: the agent's account hits its usage limit. The
 * Claude Code stand-in hits it as Claude Code 2.1.332 does (a rate_limit_event
 * with the reset, "You've hit your 5-hour limit", exit 1) the first time it
 * is asked, with a reset just past (the run waits the margin, about ten
 * seconds), and works when launched again. And the cost it reports crosses
 * an issue's budget.
 */

const runId = inject("cspaceTestRun");
const project = useCoordinateProjects();

describe("usage limits and budgets in a real run (claude stand-in)", () => {
  it("parks the account on a usage limit that resets during the run: the attempt is not counted and the issue merges", async () => {
    const p = await project({
      name: "limit",
      devcontainer: CLAUDE_IMAGE_DEVCONTAINER,
      agent: { preset: "claude", env: { CSPACE_STANDIN_LOG: "/tmp/standin.log" } },
      // One attempt only: had the limit counted as a failed attempt, the issue would fail.
      coordinator: { maxAttempts: 1, maxParallel: 1 },
      files: await claudeImageFiles(runId, { installed: true }),
      issues: { 80: issueFile("Greet", "Write a greeting.\n\nstandin: usage-limit-once -110\nstandin: commit greeting.txt hello") },
    });
    const run = await p.coordinate([80], 240_000);
    expect(run.status, explain(run)).toBe(0);
    expect(p.subjects()).toEqual([expect.stringMatching(/^Greet/)]);
    const row = rowOf(run.report, 80);
    expect(row).toMatchObject({ status: "merged", attempts: 1, failedAttempts: 0 });
    expect(row.parkedMs).toBeGreaterThan(0);
    expect(run.report?.parkedMs).toBeGreaterThan(0);
    // The limit as recorded: Claude's reset time and words, the account it parked.
    expect(run.stderr + run.stdout).toMatch(/"type":"RateLimited".*"account":"claude".*"message":"You've hit your 5-hour limit/);
  }, 300_000);

  it("fails an issue whose agent's reported cost crosses coordinator.budget.issue, with the reason", async () => {
    const p = await project({
      name: "budget",
      devcontainer: CLAUDE_IMAGE_DEVCONTAINER,
      agent: { preset: "claude" },
      // The stand-in reports $0.0125 a turn; its first attempt fails (no commit) and would be retried.
      coordinator: { maxAttempts: 3, maxParallel: 1, budget: { issue: 0.01 } },
      files: await claudeImageFiles(runId, { installed: true }),
      issues: { 81: issueFile("Spend", "Think about it, commit nothing.") },
    });
    const run = await p.coordinate([81], 240_000);
    expect(run.status, explain(run)).toBe(1);
    const row = rowOf(run.report, 81);
    expect(row).toMatchObject({ status: "failed", attempts: 1 });
    expect(row.reason).toContain("over budget: it spent $0.0125 of its $0.01 budget (coordinator.budget.issue)");
  }, 300_000);
});
