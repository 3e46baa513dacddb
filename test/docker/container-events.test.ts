import { afterEach, describe, expect, inject, it } from "vitest";
import { DockerRuntime } from "../../src/adapters/docker/containers.ts";
import { BASE_IMAGE, testDocker, testLabels } from "../support/docker.ts";

/**
 * The engine's event stream as the coordinator follows it to notice a dead
 * worker at once: a container of the watched project that is killed, or
 * removed, is heard of with its labels; another project's is not.
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();
const made: string[] = [];
const stops: (() => void)[] = [];

afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  await Promise.all(made.splice(0).map((id) => docker.getContainer(id).remove({ force: true }).catch(() => undefined)));
});

async function container(project: string, instance: string): Promise<string> {
  const created = await docker.createContainer({
    Image: BASE_IMAGE,
    Cmd: ["sleep", "infinity"],
    Labels: { ...testLabels(runId, project), "dev.cspace.instance": instance },
  });
  made.push(created.id);
  await created.start();
  return created.id;
}

describe("DockerRuntime.watchStopped (the engine's container events)", () => {
  it("hears of a killed and a removed container of the watched project, with their labels, and nothing of another project", async () => {
    const project = `events-${runId}`;
    const killed = await container(project, "issue-10");
    const removed = await container(project, "issue-11");
    const other = await container(`other-${runId}`, "issue-12");
    const heard: string[] = [];
    let wake: (() => void) | null = null;
    const runtime = new DockerRuntime(process.env);
    stops.push(
      await runtime.watchStopped({ "dev.cspace.project": project }, (labels) => {
        heard.push(labels["dev.cspace.instance"] ?? "?");
        wake?.();
      }),
    );
    const heardOf = (instance: string): Promise<void> =>
      new Promise((resolve) => {
        const check = (): void => {
          if (heard.includes(instance)) resolve();
        };
        wake = check;
        check();
      });

    // The other project's container dies first: had it been heard, it would be in the list before the watched ones.
    await docker.getContainer(other).kill();
    await docker.getContainer(killed).kill();
    await heardOf("issue-10");
    await docker.getContainer(removed).remove({ force: true });
    await heardOf("issue-11");

    expect(new Set(heard)).toEqual(new Set(["issue-10", "issue-11"]));
  });

  it("stops hearing once the returned function is called", async () => {
    const project = `events-stop-${runId}`;
    const first = await container(project, "issue-20");
    const second = await container(project, "issue-21");
    const heard: string[] = [];
    let wake: (() => void) | null = null;
    const runtime = new DockerRuntime(process.env);
    const stop = await runtime.watchStopped({ "dev.cspace.project": project }, (labels) => {
      heard.push(labels["dev.cspace.instance"] ?? "?");
      wake?.();
    });
    await docker.getContainer(first).kill();
    await new Promise<void>((resolve) => {
      wake = () => {
        if (heard.includes("issue-20")) resolve();
      };
      wake();
    });
    stop();
    // A second watcher proves the engine sent the later event; the stopped one must not have heard it.
    const witness: string[] = [];
    let witnessed: (() => void) | null = null;
    stops.push(
      await runtime.watchStopped({ "dev.cspace.project": project }, (labels) => {
        witness.push(labels["dev.cspace.instance"] ?? "?");
        witnessed?.();
      }),
    );
    await docker.getContainer(second).kill();
    await new Promise<void>((resolve) => {
      witnessed = () => {
        if (witness.includes("issue-21")) resolve();
      };
      witnessed();
    });
    expect(heard).not.toContain("issue-21");
  });
});
