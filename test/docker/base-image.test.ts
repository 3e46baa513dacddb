import type Docker from "dockerode";
import { afterAll, describe, expect, inject, it } from "vitest";
import { isAtLeast } from "../../src/core/doctor/checks.ts";
import { BASE_IMAGE, containerExists, testDocker, testLabels } from "../support/docker.ts";

const runId = inject("cspaceTestRun");
const docker = testDocker();
const created: Docker.Container[] = [];

afterAll(async () => {
  for (const container of created.splice(0)) {
    await container.remove({ force: true });
    expect(await containerExists(docker, container.id)).toBe(false);
  }
});

/** Runs a shell command in a fresh labelled container of the base image; its output and exit code. */
async function runInBaseImage(script: string): Promise<{ output: string; exitCode: number }> {
  const container = await docker.createContainer({
    Image: BASE_IMAGE,
    Cmd: ["sh", "-c", script],
    // With a TTY the log is the plain byte stream, not docker's multiplexed frames.
    Tty: true,
    Labels: testLabels(runId, "base-image-test"),
  });
  created.push(container);
  await container.start();
  const { StatusCode } = (await container.wait()) as { StatusCode: number };
  const logs = await container.logs({ stdout: true, stderr: true, follow: false });
  return { output: logs.toString("utf8"), exitCode: StatusCode };
}

describe(`the ${BASE_IMAGE} image`, () => {
  it("carries the run's label on what the test creates", async () => {
    const { exitCode } = await runInBaseImage("true");
    const labelled = await docker.listContainers({ all: true, filters: { label: [`dev.cspace.test=${runId}`, "dev.cspace.project=base-image-test"] } });
    expect(exitCode).toBe(0);
    expect(labelled.map((c) => c.Id)).toContain(created[created.length - 1]?.id);
  });

  it("has Node 18 or newer and git 2.38 or newer", async () => {
    const { output, exitCode } = await runInBaseImage("node --version && git --version");
    expect(exitCode).toBe(0);
    const [node = "", git = ""] = output.trim().split(/\r?\n/);
    expect(node).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(isAtLeast(node, "18.0")).toBe(true);
    expect(git).toMatch(/^git version \d+\.\d+/);
    expect(isAtLeast(git, "2.38")).toBe(true);
  });
});
