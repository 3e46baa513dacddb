import { text } from "node:stream/consumers";
import { afterEach, describe, expect, inject, it } from "vitest";
import { DockerRuntime } from "../../src/adapters/docker/containers.ts";
import { BASE_IMAGE, testDocker, testLabels } from "../support/docker.ts";

/**
 * `execStream`: a command with its input and outputs streamed, which git's
 * pack protocol and the message relay ride on to reach a worker on an engine
 * that shares no filesystem with the host.
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();
const made: string[] = [];

afterEach(async () => {
  await Promise.all(made.splice(0).map((id) => docker.getContainer(id).remove({ force: true })));
});

async function container(): Promise<string> {
  const created = await docker.createContainer({ Image: BASE_IMAGE, Cmd: ["sleep", "infinity"], Labels: testLabels(runId, `exec-stream-${runId}`) });
  made.push(created.id);
  await created.start();
  return created.id;
}

describe("DockerRuntime.execStream", () => {
  it("carries binary input through, keeps stdout and stderr apart, and passes the exit code on once input ends", async () => {
    const id = await container();
    const runtime = new DockerRuntime(process.env);
    const stream = await runtime.execStream(id, ["/bin/sh", "-c", "sha256sum; echo to-stderr >&2; exit 3"]);
    const input = Buffer.alloc(3 * 1024 * 1024, 7);
    const out = text(stream.stdout);
    const err = text(stream.stderr);
    stream.stdin.end(input);
    const { createHash } = await import("node:crypto");
    expect((await out).split(" ")[0]).toBe(createHash("sha256").update(input).digest("hex"));
    expect(await err).toBe("to-stderr\n");
    expect(await stream.exit).toBe(3);
  });

  it("answers line by line while the input stays open", async () => {
    const id = await container();
    const runtime = new DockerRuntime(process.env);
    const stream = await runtime.execStream(id, ["/bin/sh", "-c", "while read line; do echo \"got $line\"; done"]);
    stream.stdout.setEncoding("utf8");
    const lines = stream.stdout[Symbol.asyncIterator]();
    stream.stdin.write("one\n");
    expect(String((await lines.next()).value)).toBe("got one\n");
    stream.stdin.write("two\n");
    expect(String((await lines.next()).value)).toBe("got two\n");
    stream.stdin.end();
    expect(await stream.exit).toBe(0);
  });

  it("says a command dropped while running was left running, rather than waiting for it", async () => {
    const id = await container();
    const runtime = new DockerRuntime(process.env);
    const stream = await runtime.execStream(id, ["sleep", "600"]);
    stream.close();
    await expect(stream.exit).rejects.toThrow(/left running/);
  });
});
