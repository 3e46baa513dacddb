import { execFileSync } from "node:child_process";
import path from "node:path";
import type Docker from "dockerode";
import { afterEach, describe, expect, inject, it } from "vitest";
import { LABELS } from "../../src/core/instances/labels.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { CLAUDE_IMAGE_DEVCONTAINER, claudeImageFiles } from "../support/claude-image.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { isEvent, startCoordinator, until, type CoordinatorChild } from "../support/coordinate-run.ts";
import { testDocker } from "../support/docker.ts";
import { makeFixtureRepo, type FixtureRepo } from "../support/fixture-repo.ts";

/**
 * coordinator.budget.issue holds while the agent works (issue 13, Budgets):
 * the Claude Code stand-in ($0.0125 a turn) passes a $0.02 budget in its
 * second turn and goes on with a third that never ends by itself. The
 * coordinator, polling what the running agent spent, must stop it and fail
 * the issue with the reason; the independent issue merges, and the report
 * counts the stopped attempt's two turns once.
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();
const repos: FixtureRepo[] = [];
const children: CoordinatorChild[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) await child.kill9();
  for (const repo of repos.splice(0)) {
    const id = projectId(repo.projectName, repo.dir);
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } });
    await Promise.all(left.map((c: Docker.ContainerInfo) => docker.getContainer(c.Id).remove({ force: true })));
    await repo.remove();
  }
});

interface InstanceStatus {
  readonly agent: { readonly turns: number | null; readonly queueDepth: number | null };
}

interface Row {
  readonly issue: number;
  readonly status: string;
  readonly reason: string;
  readonly attempts: number;
  readonly turns: number;
  readonly costUsd: number | null;
}

describe("an issue whose running agent spends past coordinator.budget.issue", () => {
  it("has its agent stopped and fails with the reason, while the rest of the run goes on", async () => {
    const repo = await makeFixtureRepo({
      projectName: `co-budget-${runId}`.slice(0, 60),
      devcontainer: CLAUDE_IMAGE_DEVCONTAINER,
      config: { agent: { preset: "claude" }, forge: { type: "local", remote: "../remote.git" }, coordinator: { maxAttempts: 1, maxParallel: 2, budget: { issue: 0.02 } } },
      files: {
        ...(await claudeImageFiles(runId, { installed: true })),
        ".cspace/issues/10.md": "---\ntitle: Add the greeting\n---\n\nWrite a greeting.\n\nstandin: wait-file /tmp/first-turn-may-end\nstandin: commit greeting.txt hello\n",
        ".cspace/issues/11.md": "---\ntitle: Add the farewell\n---\n\nWrite a farewell.\n\nstandin: commit farewell.txt bye\n",
      },
    });
    repos.push(repo);
    execFileSync("git", ["clone", "--quiet", "--bare", repo.dir, path.join(path.dirname(repo.dir), "remote.git")]);
    const cli = (args: readonly string[]) => runCliAsync(["--cwd", repo.dir, ...args], { env: repo.env });
    const status = async (): Promise<InstanceStatus> => JSON.parse((await cli(["status", "issue-10", "--json"])).stdout) as InstanceStatus;

    const run = startCoordinator({ repo }, ["10", "11"]);
    children.push(run);
    await run.waitFor(isEvent("Launched", 10));
    // Both wait for turn 1, which is held: turn 2 ends ($0.025 in all), turn 3 works on and on.
    expect((await cli(["send", "issue-10", "Also say it twice."])).status).toBe(0);
    expect((await cli(["send", "issue-10", "Then keep going.\nstandin: hang"])).status).toBe(0);
    await until(async () => (await status()).agent.queueDepth === 2, "both messages queued");
    expect((await cli(["exec", "issue-10", "--", "touch", "/tmp/first-turn-may-end"])).status).toBe(0);

    const { status: code, stderr } = await run.exited;
    expect(code, stderr.slice(-3000)).toBe(1);
    const report = JSON.parse((await cli(["status", "--json"])).stdout) as { report: { rows: Row[] } };
    const rows = report.report.rows.map(({ issue, status: s, attempts, turns, costUsd }) => ({ issue, status: s, attempts, turns, costUsd }));
    expect(rows).toEqual([
      { issue: 10, status: "failed", attempts: 1, turns: 2, costUsd: 0.025 },
      { issue: 11, status: "merged", attempts: 1, turns: 1, costUsd: 0.0125 },
    ]);
    expect(report.report.rows[0]?.reason).toContain("over budget: it spent $0.0250 of its $0.02 budget (coordinator.budget.issue); its agent was stopped");
  }, 300_000);
});
