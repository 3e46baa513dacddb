import { describe, expect, inject, it } from "vitest";
import { runCliAsync } from "../support/cli-async.ts";
import { isEvent, mergedOnce, startCoordinator, type ProgressLine, useForgeProjects } from "../support/coordinate-run.ts";
import { testDocker } from "../support/docker.ts";

/**
 * Talking to a running `cspace coordinate`: a person on the host with
 * `cspace send _coordinator "pause"` / `"resume"`, and a worker from inside
 * its container with `cspace send _coordinator "<text>"` (the scripted
 * agent's `say`). Judged by the run's events and the remote's history.
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();
const project = useForgeProjects(runId, docker);

function indexOf(lines: readonly ProgressLine[], match: (line: ProgressLine) => boolean): number {
  const at = lines.findIndex(match);
  if (at === -1) throw new Error(`no such event in:\n${lines.map((l) => JSON.stringify(l).slice(0, 160)).join("\n")}`);
  return at;
}

describe("cspace send _coordinator", () => {
  it("pause on the host holds the merge until resume; a worker's message lands in the run's log; all merged once", async () => {
    const made = await project("co-operator", [
      { number: 10, title: "Add the greeting", sleepSeconds: 6, say: "needs the schema from #9", path: "greeting.txt", text: "hello" },
      { number: 11, title: "Add the farewell", path: "farewell.txt", text: "goodbye" },
    ]);
    const run = startCoordinator(made, ["10", "11"]);
    await run.waitFor(isEvent("Launched", 10));
    const paused = await runCliAsync(["--cwd", made.repo.dir, "send", "_coordinator", "pause"], { env: made.repo.env });
    expect([paused.status, paused.stdout, paused.stderr]).toEqual([0, "coordinator: paused the run: no launch or merge until resume; agents already working go on\n", ""]);
    const refused = await runCliAsync(["--cwd", made.repo.dir, "send", "_coordinator", "skip 99"], { env: made.repo.env });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain("#99 is not in this run (#10, #11)");

    // Both pull requests open while paused; neither merges until resume.
    await run.waitFor(isEvent("PullRequestOpened", 10));
    await run.waitFor(isEvent("PullRequestOpened", 11));
    expect(run.lines.some(isEvent("Merged"))).toBe(false);
    const resumed = await runCliAsync(["--cwd", made.repo.dir, "send", "_coordinator", "resume"], { env: made.repo.env });
    expect(resumed.status, resumed.stderr).toBe(0);

    const { status, stderr } = await run.exited;
    expect(status, stderr.slice(-3000)).toBe(0);
    expect(await mergedOnce(made)).toEqual([]);
    const lines = run.lines;
    expect(indexOf(lines, isEvent("Paused"))).toBeLessThan(indexOf(lines, isEvent("PullRequestOpened", 10)));
    expect(indexOf(lines, isEvent("Resumed"))).toBeLessThan(indexOf(lines, isEvent("Merged", 10)));
    expect(indexOf(lines, isEvent("Resumed"))).toBeLessThan(indexOf(lines, isEvent("Merged", 11)));
    const said = lines.filter(isEvent("WorkerMessaged")).map((line) => line.event as { issue?: number; text?: string });
    expect(said.map((event) => [event.issue, event.text])).toEqual([[10, "needs the schema from #9"]]);

    // With the run over, nobody answers on the host.
    const after = await runCliAsync(["--cwd", made.repo.dir, "send", "_coordinator", "pause"], { env: made.repo.env });
    expect(after.status).toBe(3);
    expect(after.stderr).toContain("no coordinator is running for this project");
  }, 300_000);
});
