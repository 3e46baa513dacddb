import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { WorkerStatus } from "../../../src/core/agents/worker-status.ts";
import { INSTANCE_FILES } from "../../../src/core/messaging/layout.ts";
import { WORKER_COMMANDS, okReply } from "../../../src/core/messaging/protocol.ts";
import { serveNdjson } from "../../../src/adapters/messaging/server.ts";
import { cleanUp, defer, listenAsCoordinator, tempDir, WORKER_MAIN } from "./support.ts";

afterEach(cleanUp);

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The in-container `cspace`, as /usr/local/bin/cspace runs it, against an instance directory of the test's. */
function cspace(dir: string, args: readonly string[], stdin = ""): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WORKER_MAIN, "cli", ...args], {
      env: { ...process.env, CSPACE_INSTANCE_DIR: dir, CSPACE_INSTANCE: "issue-7" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
    child.stdin.end(stdin);
    child.once("close", (code) => { resolve({ code, stdout, stderr }); });
  });
}

function instanceDir(): string {
  return tempDir("cc-");
}

const STATUS: WorkerStatus = {
  instance: "issue-7",
  preset: "claude",
  state: "working",
  exitCode: null,
  signal: null,
  turns: 3,
  costUsd: 0.5,
  sessionId: "s",
  lastActivity: "2026-01-01T00:00:00.000Z",
  queueDepth: 1,
  branch: "issue-7",
  headSha: "0123456789abcdef",
  pid: 42,
  startedAt: "2026-01-01T00:00:00.000Z",
};

describe("the in-container cspace", { timeout: 30_000 }, () => {
  it("sends a message to this worker's coordinator, as an argument or from stdin", async () => {
    const dir = instanceDir();
    const coordinator = await listenAsCoordinator(dir);
    expect(await cspace(dir, ["send", "_coordinator", "needs", "the schema"])).toMatchObject({ code: 0 });
    expect(await cspace(dir, ["send", "_coordinator", "-"], "line one\nline two\n")).toMatchObject({ code: 0 });
    expect(coordinator.messages).toEqual([
      { text: "needs the schema", from: "issue-7" },
      { text: "line one\nline two\n", from: "issue-7" },
    ]);
  });

  it("refuses an empty message and other targets with exit 2, and says so when nobody listens with exit 3", async () => {
    const dir = instanceDir();
    expect(await cspace(dir, ["send", "_coordinator", "   "])).toMatchObject({ code: 2, stderr: expect.stringContaining("empty") as unknown });
    expect(await cspace(dir, ["send", "_coordinator", "-"], "")).toMatchObject({ code: 2 });
    expect(await cspace(dir, ["send", "issue-8", "hello"])).toMatchObject({ code: 2, stderr: expect.stringContaining("only _coordinator") as unknown });
    expect(await cspace(dir, ["frobnicate"])).toMatchObject({ code: 2 });
    const nobody = await cspace(dir, ["send", "_coordinator", "hello"]);
    expect(nobody.code).toBe(3);
    expect(nobody.stderr).toContain("not listening");
  });

  it("shows this worker's status from its supervisor, as a line or as JSON", async () => {
    const dir = instanceDir();
    const server = await serveNdjson(path.join(dir, INSTANCE_FILES.workerSocket), (message) => okReply(message.id, { status: STATUS }), { accepted: WORKER_COMMANDS });
    defer(() => server.close());
    const line = await cspace(dir, ["status"]);
    expect(line.code).toBe(0);
    expect(line.stdout).toContain("issue-7  claude  working  turns 3  cost $0.50  queue 1  issue-7 @ 0123456789");
    const json = await cspace(dir, ["status", "--json"]);
    expect(JSON.parse(json.stdout)).toEqual(STATUS);
    await server.close();
    expect((await cspace(dir, ["status"])).code).toBe(3);
  });

  it("records that the agent is blocked, with its reason", async () => {
    const dir = instanceDir();
    expect(await cspace(dir, ["blocked"])).toMatchObject({ code: 2 });
    expect(await cspace(dir, ["blocked", "needs", "a", "decision on the API"])).toMatchObject({ code: 0 });
    const record = JSON.parse(readFileSync(path.join(dir, INSTANCE_FILES.blocked), "utf8")) as { reason: string; at: string };
    expect(record.reason).toBe("needs a decision on the API");
  });
});
