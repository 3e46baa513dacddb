import { access } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCliAsync } from "../support/cli-async.ts";
import { issueFile, useCoordinateProjects } from "../support/coordinate-project.ts";
import { isEvent, startCoordinator, until, type CoordinatorChild } from "../support/coordinate-run.ts";
import { BASE_IMAGE } from "../support/docker.ts";

/**
 * Ctrl-C, SIGTERM or a closed terminal while `cspace coordinate` is busy in
 * an action that does not end by itself (here a postCreateCommand that waits
 * for ever): the command ends at once with 128 + the signal, its lock is
 * free, and the run is left unfinished for --resume, not started afresh.
 */

const coordinateProject = useCoordinateProjects();
const children: CoordinatorChild[] = [];

// Registered after the projects' cleanup, so it runs first: a coordinator still running is killed before its containers go.
afterEach(async () => {
  for (const child of children.splice(0)) await child.kill9();
});

describe.each([
  ["SIGINT", 130],
  ["SIGTERM", 143],
  ["SIGHUP", 129],
] as const)("%s while cspace coordinate is stuck in a warm", (signal, expectedCode) => {
  it(`exits ${String(expectedCode)} at once, releases the lock and leaves the run to --resume`, async () => {
    const { repo } = await coordinateProject({
      name: `co-int-${signal.toLowerCase()}`,
      devcontainer: { image: BASE_IMAGE, postCreateCommand: "touch /run/cspace/stuck; while [ ! -f /tmp/never ]; do sleep 0.2; done" },
      issues: { 10: issueFile("Add the greeting", "cspace-script: commit greeting.txt hello") },
    });

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
