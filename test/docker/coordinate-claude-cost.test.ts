import { afterEach, describe, expect, inject, it } from "vitest";
import { CLAUDE_IMAGE_DEVCONTAINER, claudeImageFiles } from "../support/claude-image.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { issueFile, useCoordinateProjects } from "../support/coordinate-project.ts";
import { isEvent, startCoordinator, until, type CoordinatorChild } from "../support/coordinate-run.ts";

/**
 * What a real Claude Code run showed (issue 13): total_cost_usd is the
 * session's running total and carries over --resume, and a `cspace restart`
 * became a new attempt, so a run's report counted a resumed session twice
 * and showed more attempts than maxAttempts. Here the Claude Code stand-in
 * (which does what 2.1.332 does, $0.0125 a turn) takes a second turn from
 * `cspace send`, is restarted mid-turn and resumes its session; the report
 * must say one attempt, the two turns that ended, and $0.025 — what the agent
 * said its results cost, to the cent — and so must `status issue-10` and
 * `list`, which once showed only the new supervisor's figures.
 */

const runId = inject("cspaceTestRun");
const coordinateProject = useCoordinateProjects();
const children: CoordinatorChild[] = [];

// Registered after the projects' cleanup, so it runs first: a coordinator still running is killed before its containers go.
afterEach(async () => {
  for (const child of children.splice(0)) await child.kill9();
});

interface InstanceStatus {
  readonly agent: { readonly state: string; readonly turns: number | null; readonly queueDepth: number | null };
}

describe("cost and attempts of a Claude Code session that is sent a message and restarted", () => {
  it("reports one attempt with each result's cost counted once, not the resumed session's running total again", async () => {
    const { repo } = await coordinateProject({
      name: "co-cost",
      devcontainer: CLAUDE_IMAGE_DEVCONTAINER,
      agent: { preset: "claude" },
      coordinator: { maxAttempts: 1 },
      files: await claudeImageFiles(runId, { installed: true }),
      issues: { 10: issueFile("Add the greeting", "Write a greeting.\n\nstandin: wait-file /tmp/first-turn-may-end\nstandin: commit greeting.txt hello") },
    });
    const cli = (args: readonly string[]) => runCliAsync(["--cwd", repo.dir, ...args], { env: repo.env });
    const status = async (): Promise<InstanceStatus> => JSON.parse((await cli(["status", "issue-10", "--json"])).stdout) as InstanceStatus;

    const run = startCoordinator({ repo }, ["10"]);
    children.push(run);
    await run.waitFor(isEvent("Launched", 10));
    // Turn 1 is held; the message waits for it, then is turn 2 of the same process, which is held in its turn.
    expect((await cli(["send", "issue-10", "Also say it twice.\nstandin: wait-file /tmp/never"])).status).toBe(0);
    expect((await cli(["exec", "issue-10", "--", "touch", "/tmp/first-turn-may-end"])).status).toBe(0);
    await until(async () => {
      const now = await status();
      return now.agent.turns === 1 && now.agent.queueDepth === 0 && now.agent.state === "working";
    }, "turn 2 under way");

    // Restarted mid-turn 2: the session is resumed with the original prompt, which now ends.
    const restarted = await cli(["restart", "issue-10", "--json"]);
    expect(restarted.status, restarted.stderr).toBe(0);
    const { status: code, stderr } = await run.exited;
    expect(code, stderr.slice(-3000)).toBe(0);

    const report = JSON.parse((await cli(["status", "--json"])).stdout) as { report: { rows: { issue: number; status: string; attempts: number; turns: number; costUsd: number | null }[] } };
    expect(report.report.rows.map(({ issue, status: s, attempts, turns, costUsd }) => ({ issue, status: s, attempts, turns, costUsd }))).toEqual([
      { issue: 10, status: "merged", attempts: 1, turns: 2, costUsd: 0.025 },
    ]);
    // The instance's own figures after the restart are the attempt's too, not only the new supervisor's.
    const instance = JSON.parse((await cli(["status", "issue-10", "--json"])).stdout) as { agent: { turns: number | null; costUsd: number | null } };
    expect({ turns: instance.agent.turns, costUsd: instance.agent.costUsd }).toEqual({ turns: 2, costUsd: 0.025 });
    const listed = JSON.parse((await cli(["list", "--json"])).stdout) as { instances: { instance: string; agent: { turns: number | null; costUsd: number | null } }[] };
    const row = listed.instances.find((entry) => entry.instance === "issue-10");
    expect({ turns: row?.agent.turns, costUsd: row?.agent.costUsd }).toEqual({ turns: 2, costUsd: 0.025 });
  }, 300_000);
});
