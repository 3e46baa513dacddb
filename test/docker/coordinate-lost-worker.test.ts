import { describe, expect, inject, it } from "vitest";
import { LABELS } from "../../src/core/instances/labels.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { agentStarted, agentStarts, isEvent, mergedOnce, startCoordinator, useForgeProjects } from "../support/coordinate-run.ts";
import { testDocker } from "../support/docker.ts";

/**
 * A worker whose container dies under `cspace coordinate` (`docker kill`, as
 * the OOM killer or a person would): the loss is noticed, counted as an
 * attempt, the instance brought back and the agent launched again, and the
 * issue still ends merged once. Judged by the remote's history, the forge's
 * records and the run's events.
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();
const project = useForgeProjects(runId, docker);

describe("cspace coordinate when a worker's container is killed", () => {
  it("relaunches the agent in the brought-back instance and merges the issue once; the other issue is untouched", async () => {
    const made = await project("co-lost", [
      { number: 10, title: "Add the greeting", sleepSeconds: 15, path: "greeting.txt", text: "hello" },
      { number: 11, title: "Add the farewell", path: "farewell.txt", text: "goodbye" },
    ]);
    const run = startCoordinator(made, ["10", "11"]);
    await run.waitFor(isEvent("Launched", 10));
    // Killed once its agent runs: a kill between the launch and the agent's start would leave one start to count.
    await agentStarted(made.paths("issue-10"));
    const id = projectId(made.repo.projectName, made.repo.dir);
    const [container] = await docker.listContainers({ filters: { label: [`${LABELS.project}=${id}`, `${LABELS.instance}=issue-10`] } });
    if (container === undefined) throw new Error("issue-10's container is not running");
    await docker.getContainer(container.Id).kill();

    const { status, stderr } = await run.exited;
    expect(status, stderr.slice(-4000)).toBe(0);
    expect(await mergedOnce(made)).toEqual([]);
    const lost = run.lines.filter(isEvent("WorkerLost"));
    expect(lost.map((line) => line.event?.issue)).toEqual([10]);
    expect(await agentStarts(made.paths("issue-10"))).toBe(2);
    expect(await agentStarts(made.paths("issue-11"))).toBe(1);
  }, 300_000);
});
