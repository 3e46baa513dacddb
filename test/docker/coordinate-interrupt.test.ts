import { execFileSync } from "node:child_process";
import { access } from "node:fs/promises";
import path from "node:path";
import type Docker from "dockerode";
import { afterEach, describe, expect, inject, it } from "vitest";
import { LABELS } from "../../src/core/instances/labels.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { isEvent, startCoordinator, until, type CoordinatorChild } from "../support/coordinate-run.ts";
import { BASE_IMAGE, testDocker } from "../support/docker.ts";
import { makeFixtureRepo, type FixtureRepo } from "../support/fixture-repo.ts";

/**
 * Ctrl-C, SIGTERM or a closed terminal while `cspace coordinate` is busy in
 * an action that does not end by itself (here a postCreateCommand that waits
 * for ever): the command ends at once with 128 + the signal, its lock is
 * free, and the run is left unfinished for --resume, not started afresh.
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

describe.each([
  ["SIGINT", 130],
  ["SIGTERM", 143],
  ["SIGHUP", 129],
] as const)("%s while cspace coordinate is stuck in a warm", (signal, expectedCode) => {
  it(`exits ${String(expectedCode)} at once, releases the lock and leaves the run to --resume`, async () => {
    const repo = await makeFixtureRepo({
      projectName: `co-int-${signal.toLowerCase()}-${runId}`.slice(0, 60),
      devcontainer: { image: BASE_IMAGE, postCreateCommand: "touch /run/cspace/stuck; while [ ! -f /tmp/never ]; do sleep 0.2; done" },
      config: { agent: { preset: "scripted" }, forge: { type: "local", remote: "../remote.git" } },
      files: { ".cspace/issues/10.md": "---\ntitle: Add the greeting\n---\n\ncspace-script: commit greeting.txt hello\n" },
    });
    repos.push(repo);
    execFileSync("git", ["clone", "--quiet", "--bare", repo.dir, path.join(path.dirname(repo.dir), "remote.git")]);

    const run = startCoordinator({ repo }, ["10"]);
    children.push(run);
    // The warm is in its postCreateCommand (which says so in the instance's directory): the action will not end by itself.
    await run.waitFor((line) => line.kind === "action" && (line as { action?: { type?: string } }).action?.type === "Warm");
    await until(() => access(path.join(repo.runDir, "issue-10", "stuck")).then(() => true, () => false), "the postCreateCommand running");
    process.kill(run.pid, signal);
    const { status, stderr } = await run.exited;

    expect(status, stderr.slice(-3000)).toBe(expectedCode);
    expect(run.lines.filter((line) => line.kind === "interrupted")).toEqual([{ kind: "interrupted", signal, exitCode: expectedCode }]);
    expect(run.lines.some(isEvent("Warmed"))).toBe(false);
    expect(stderr).toContain("cspace coordinate --resume");

    // The lock is free and the run unfinished: a new run is refused in favour of --resume, not for a running coordinator.
    const status2 = await runCliAsync(["--cwd", repo.dir, "status", "--json"], { env: repo.env });
    const parsed = JSON.parse(status2.stdout) as { holder: unknown; report: { finishedAt: string | null; rows: { issue: number }[] } };
    expect(parsed.holder).toBeNull();
    expect(parsed.report.finishedAt).toBeNull();
    expect(parsed.report.rows.map((row) => row.issue)).toEqual([10]);
    const again = await runCliAsync(["--cwd", repo.dir, "coordinate", "10"], { env: repo.env });
    expect(again.status).toBe(2);
    expect(again.stderr).toContain("has not finished");
  }, 180_000);
});
