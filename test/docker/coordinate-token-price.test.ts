import { execFileSync } from "node:child_process";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import type Docker from "dockerode";
import { afterEach, describe, expect, inject, it } from "vitest";
import { LABELS } from "../../src/core/instances/labels.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { repoRoot } from "../support/cli.ts";
import { startCoordinator, type CoordinatorChild } from "../support/coordinate-run.ts";
import { testDocker } from "../support/docker.ts";
import { makeFixtureRepo, type FixtureRepo } from "../support/fixture-repo.ts";

/**
 * An agent that reports tokens and no cost (the Codex stand-in: 1,200 input
 * and 80 output tokens a turn, as 0.171.0 prints them) is budgeted by
 * `coordinator.prices`: the report, `status` and `list` show its tokens at
 * the configured price, marked as estimated.
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

/** A worker image with the Codex stand-in on PATH as `codex`. */
async function codexImageFiles(): Promise<Record<string, string>> {
  const agents = path.join(repoRoot, "test", "fixtures", "agents");
  const files: Record<string, string> = {
    "image/Dockerfile": [
      "FROM cspace-base:bookworm",
      "RUN useradd --create-home --uid 1000 --shell /bin/sh dev && mkdir -p /workspaces && chown 1000:1000 /workspaces",
      "COPY standin/ /opt/standin/",
      "RUN chmod 0755 /opt/standin/codex && ln -s /opt/standin/codex /usr/local/bin/codex",
      `LABEL dev.cspace.test=${runId}`,
      "",
    ].join("\n"),
    "image/standin/codex": await readFile(path.join(agents, "codex"), "utf8"),
  };
  for (const name of await readdir(path.join(agents, "standins"))) files[`image/standin/standins/${name}`] = await readFile(path.join(agents, "standins", name), "utf8");
  return files;
}

interface Agent {
  readonly costUsd: number | null;
  readonly costEstimated?: boolean;
}

describe("a token-only agent with a price", () => {
  it("is reported at its tokens times coordinator.prices, marked as estimated", async () => {
    const repo = await makeFixtureRepo({
      projectName: `co-price-${runId}`.slice(0, 60),
      devcontainer: { build: { dockerfile: "../image/Dockerfile", context: "../image" }, remoteUser: "dev" },
      config: {
        agent: { preset: "codex" },
        forge: { type: "local", remote: "../remote.git" },
        coordinator: { maxAttempts: 1, budget: { issue: 5 }, prices: { codex: { input: 10, output: 40 } } },
      },
      files: {
        ...(await codexImageFiles()),
        ".cspace/issues/10.md": "---\ntitle: Add the greeting\n---\n\nWrite a greeting.\n",
      },
    });
    repos.push(repo);
    execFileSync("git", ["clone", "--quiet", "--bare", repo.dir, path.join(path.dirname(repo.dir), "remote.git")]);
    const cli = (args: readonly string[]) => runCliAsync(["--cwd", repo.dir, ...args], { env: repo.env });

    const run = startCoordinator({ repo }, ["10"]);
    children.push(run);
    const { status: code, stderr } = await run.exited;
    // The Codex stand-in commits nothing, so the issue fails (no commits): what it spent is still priced.
    expect(code, `${stderr.slice(-3000)}\n${JSON.stringify(run.lines.slice(-12))}`).toBe(1);
    // A budget is set and the agent is priced: no word that the budget cannot hold it.
    expect(JSON.stringify(run.lines)).not.toContain("coordinator.budget cannot hold it");

    // 1,200 input tokens at $10 and 80 output tokens at $40 per million.
    const report = JSON.parse((await cli(["status", "--json"])).stdout) as { report: { rows: { issue: number; status: string; costUsd: number | null; costEstimated: boolean }[] } };
    expect(report.report.rows.map(({ issue, status, costUsd, costEstimated }) => ({ issue, status, costUsd, costEstimated }))).toEqual([
      { issue: 10, status: "failed", costUsd: 0.0152, costEstimated: true },
    ]);
    const instance = JSON.parse((await cli(["status", "issue-10", "--json"])).stdout) as { agent: Agent };
    expect([instance.agent.costUsd, instance.agent.costEstimated]).toEqual([0.0152, true]);
    const listed = JSON.parse((await cli(["list", "--json"])).stdout) as { instances: { instance: string; agent: Agent }[] };
    const row = listed.instances.find((entry) => entry.instance === "issue-10");
    expect([row?.agent.costUsd, row?.agent.costEstimated]).toEqual([0.0152, true]);
    expect((await cli(["status", "issue-10"])).stdout).toContain("~$0.02 (estimated: tokens priced by coordinator.prices)");
  }, 300_000);
});
