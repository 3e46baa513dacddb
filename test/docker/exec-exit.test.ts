import { PassThrough, Readable } from "node:stream";
import { afterEach, describe, expect, inject, it } from "vitest";
import { DockerRuntime } from "../../src/adapters/docker/containers.ts";
import { BASE_IMAGE, testDocker, testLabels } from "../support/docker.ts";

/**
 * An exec's exit code as cspace passes it on (`cspace exec`, verify, every
 * git step in a worker). The engine may close an exec's output before it
 * records the exit — with a TTY most of the time on a busy machine — and
 * `cspace exec`'s shell then ended with 1 instead of its own code. With a
 * TTY, the engine also stops the output when the exec's input ends, so the
 * local terminal's end of input is not passed on.
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();
const made: string[] = [];

afterEach(async () => {
  await Promise.all(made.splice(0).map((id) => docker.getContainer(id).remove({ force: true })));
});

async function container(): Promise<string> {
  const created = await docker.createContainer({ Image: BASE_IMAGE, Cmd: ["sleep", "infinity"], Labels: testLabels(runId, `exec-exit-${runId}`) });
  made.push(created.id);
  await created.start();
  return created.id;
}

const ROUNDS = 20;

describe("DockerRuntime's exec exit codes", () => {
  it("passes an attached shell's exit code through, with a TTY, every time", async () => {
    const id = await container();
    const runtime = new DockerRuntime(process.env);
    const codes: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const terminal = { stdin: Readable.from([]), stdout: new PassThrough().resume(), stderr: new PassThrough().resume(), tty: true, columns: 80, rows: 24 };
      codes.push(await runtime.execAttached(id, ["/bin/sh", "-c", "exit 5"], terminal));
    }
    expect(codes).toEqual(Array<number>(ROUNDS).fill(5));
  });

  it("lets a TTY shell answer what was typed before the local input ended, and passes its exit code through", async () => {
    const id = await container();
    const runtime = new DockerRuntime(process.env);
    const screens: string[] = [];
    const codes: number[] = [];
    for (let i = 0; i < ROUNDS / 4; i++) {
      let screen = "";
      const stdout = new PassThrough().setEncoding("utf8").on("data", (chunk: string) => {
        screen += chunk;
      });
      // Typed ahead, then the end of the local input: the engine must not take it as the end of the session.
      const terminal = { stdin: Readable.from(["echo answer-$((6*7))\n", "exit 5\n"]), stdout, stderr: new PassThrough().resume(), tty: true };
      codes.push(await runtime.execAttached(id, ["/bin/sh"], terminal));
      screens.push(screen.replaceAll("\r", ""));
    }
    expect(codes).toEqual(Array<number>(ROUNDS / 4).fill(5));
    // The typed line is echoed as typed (`$((6*7))`): only the shell itself writes the answer.
    for (const screen of screens) expect(screen).toContain("answer-42");
  });

  it("passes an attached command's exit code through without a TTY, and a captured one's", async () => {
    const id = await container();
    const runtime = new DockerRuntime(process.env);
    const attached: number[] = [];
    const captured: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const terminal = { stdin: Readable.from([]), stdout: new PassThrough().resume(), stderr: new PassThrough().resume(), tty: false };
      attached.push(await runtime.execAttached(id, ["/bin/sh", "-c", "exit 6"], terminal));
      captured.push((await runtime.exec(id, ["/bin/sh", "-c", "echo out; exit 7"])).exitCode);
    }
    expect(attached).toEqual(Array<number>(ROUNDS).fill(6));
    expect(captured).toEqual(Array<number>(ROUNDS).fill(7));
  });
});
