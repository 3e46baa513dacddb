import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { BadReplyError, RequestTimeoutError } from "../../../src/adapters/messaging/errors.ts";
import { ExternalError } from "../../../src/core/errors.ts";
import { instancePaths, type InstancePaths } from "../../../src/services/workers/instance-files.ts";
import { probeAgent } from "../../../src/services/workers/probe.ts";
import { askStatus, askWorker, MAX_WORKER_REPLY_BYTES } from "../../../src/services/workers/supervisor-client.ts";
import { cleanUp, defer, tempDir } from "../worker/support.ts";

/**
 * Whatever answers on a worker's w.sock is hostile input: a prompt-injected
 * agent can kill its supervisor and listen in its place. The impostor here is
 * the script the hostile docker test runs inside a real worker
 * (test/hostile/wsock-impostor.mjs); every way it answers must end the
 * host's request with a typed error naming the instance, in bounded time and
 * memory, and never be taken for an answer.
 */

afterEach(cleanUp);

const IMPOSTOR = fileURLToPath(new URL("../../hostile/wsock-impostor.mjs", import.meta.url));

interface Impostor {
  readonly paths: InstancePaths;
  mode(name: string): void;
  /** Bytes the impostor wrote on its connections in `mode`, once they closed. */
  written(mode: string): Promise<number>;
}

async function impostor(): Promise<Impostor> {
  const runDir = tempDir("wr-");
  const paths = instancePaths(runDir, "issue-1");
  mkdirSync(paths.dir, { recursive: true });
  const modeFile = path.join(runDir, "mode");
  const tally = path.join(runDir, "tally");
  writeFileSync(tally, "");
  const child = spawn(process.execPath, [IMPOSTOR, paths.workerSocket, modeFile, tally], { stdio: ["ignore", "pipe", "inherit"] });
  defer(() => { child.kill("SIGKILL"); });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once("data", () => { resolve(); });
    child.once("exit", (code) => { reject(new Error(`the impostor exited with ${String(code)}`)); });
  });
  return {
    paths,
    mode: (name) => { writeFileSync(modeFile, name); },
    async written(mode) {
      // Appended when the impostor sees the connection close, which follows the host's hang-up by a moment.
      for (;;) {
        const line = readFileSync(tally, "utf8").split("\n").find((l) => l.startsWith(`${mode} `));
        if (line !== undefined) return Number(line.split(" ")[1]);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

describe("the host's requests on a w.sock a hostile worker answers", () => {
  it.each([
    ["garbage", /broke the protocol answering send: .*does not speak cspace protocol v1/],
    ["not-an-object", /broke the protocol answering send: .*does not speak cspace protocol v1/],
    ["wrong-id", /broke the protocol answering send: .*answered another request/],
    ["wrong-shape", /answered send with a reply cspace does not accept: reply\.queued/],
  ])("%s: a BadReplyError naming the instance, never an answer", async (mode, message) => {
    const fake = await impostor();
    fake.mode(mode);
    const error: unknown = await askWorker(fake.paths, "send", { text: "hello" }, 10_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadReplyError);
    expect(error).toBeInstanceOf(ExternalError);
    expect((error as Error).message).toContain('instance "issue-1"');
    expect((error as Error).message).toMatch(message);
  });

  it.each(["huge", "endless"])("%s: refused once the reply passes the bound, having read little more than it", async (mode) => {
    const fake = await impostor();
    fake.mode(mode);
    const error: unknown = await askWorker(fake.paths, "send", { text: "hello" }, 60_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadReplyError);
    expect((error as Error).message).toMatch(/broke the protocol answering send: a reply on .* is longer than 1048576 bytes/);
    // The impostor writes only as fast as the host reads: what it got out is the host's buffer plus the kernel's.
    expect(await fake.written(mode)).toBeLessThan(MAX_WORKER_REPLY_BYTES + 8 * 1024 * 1024);
  });

  it.each(["silent", "drip"])("%s: a RequestTimeoutError naming the instance when the time is up, however data trickles", async (mode) => {
    const fake = await impostor();
    fake.mode(mode);
    const error: unknown = await askWorker(fake.paths, "send", { text: "hello" }, 700).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect((error as Error).message).toContain('the supervisor of instance "issue-1" did not answer send in time');
  });

  it("status of the wrong shape is refused by field, and the probe (list, the coordinator) calls the agent lost with the reason", async () => {
    const fake = await impostor();
    fake.mode("wrong-shape");
    await expect(askStatus(fake.paths, 5_000)).rejects.toThrow(/answered status with a reply cspace does not accept: reply\.status\./);
    const view = await probeAgent(fake.paths, "running", 5_000);
    expect(view).toMatchObject({ state: "lost", turns: null });
    expect(view.lostBecause).toContain('the supervisor of instance "issue-1" answered status with a reply cspace does not accept');
    fake.mode("silent");
    // Slow is not hostile: nobody answered, as before.
    await expect(askStatus(fake.paths, 300)).resolves.toBeNull();
  });

  it("interrupt and shutdown answers of the wrong shape are refused too", async () => {
    const fake = await impostor();
    fake.mode("wrong-shape");
    await expect(askWorker(fake.paths, "interrupt", {}, 5_000)).rejects.toThrow(/answered interrupt with a reply cspace does not accept: reply\.(reportId|outcome)/);
    await expect(askWorker(fake.paths, "shutdown", {}, 5_000)).rejects.toThrow(/answered shutdown with a reply cspace does not accept: reply\.(reportId|undelivered)/);
  });
});
