import { mkdir } from "node:fs/promises";
import { createConnection } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { request } from "../../../src/adapters/messaging/client.ts";
import type { WorkerReport } from "../../../src/core/agents/worker-status.ts";
import type { Reply } from "../../../src/core/messaging/protocol.ts";
import type { PoolContext } from "../../../src/services/coordinate/pool/context.ts";
import { CoordinatorSockets } from "../../../src/services/coordinate/pool/listen.ts";
import { instancePaths } from "../../../src/services/workers/instance-files.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";
import { sampleReport } from "../../support/worker-report.ts";

const tempDir = useTempDirs("listen");
const open: CoordinatorSockets[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((sockets) => sockets.close()));
});

async function serving() {
  const runDir = await tempDir();
  const paths = instancePaths(runDir, "issue-1");
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  // The sockets reach only the run directory and the project's id.
  const context = { project: { runDir, projectId: "p" } } as unknown as PoolContext;
  const sockets = new CoordinatorSockets(context);
  open.push(sockets);
  const reports: WorkerReport[] = [];
  const messages: string[] = [];
  const refused: string[] = [];
  await sockets.listen(["issue-1"], {
    report: (_instance, report) => { reports.push(report); return Promise.resolve(); },
    message: (_instance, text) => { messages.push(text); return Promise.resolve(); },
    refused: (instance, reason) => { refused.push(`${instance}: ${reason}`); },
  });
  return { socket: paths.coordinatorSocket, reports, messages, refused };
}

/** Writes raw text on one connection and reads `count` reply lines. */
function raw(socketPath: string, text: string, count: number): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let buffer = "";
    const replies: Reply[] = [];
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8");
      let newline = buffer.indexOf("\n");
      while (newline >= 0) {
        replies.push(JSON.parse(buffer.slice(0, newline)) as Reply);
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf("\n");
      }
      if (replies.length >= count) {
        socket.destroy();
        resolve(replies);
      }
    });
    socket.on("error", reject);
    socket.write(text);
  });
}

describe("the coordinator's c.sock refuses what does not fit the protocol, before anything is recorded", () => {
  it("answers the malformed report of issue 12 with bad-request naming the field, records nothing, and keeps serving", async () => {
    const { socket, reports, refused } = await serving();
    const reply = await request(socket, { v: 1, id: "r", cmd: "report", report: { id: "x", outcome: "bogus" } });
    expect(reply).toMatchObject({ ok: false, id: "r", error: { code: "bad-request" } });
    expect(reply.ok ? "" : reply.error.message).toMatch(/report\.outcome/);
    expect(reports).toEqual([]);
    expect(refused).toEqual([expect.stringMatching(/^issue-1: report refused: .*report\.outcome/) as unknown]);
    expect(await request(socket, { v: 1, id: "ok", cmd: "report", report: sampleReport("good") })).toMatchObject({ ok: true, id: "ok" });
    expect(reports.map((r) => r.id)).toEqual(["good"]);
  });

  it("refuses a report with fields it does not know, a sha git could take for an option, and a non-object", async () => {
    const { socket, reports } = await serving();
    const many = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`field${String(i)}`, i]));
    const replies = await Promise.all([
      request(socket, { v: 1, id: "a", cmd: "report", report: { ...sampleReport("a"), ...many } }),
      request(socket, { v: 1, id: "b", cmd: "report", report: { ...sampleReport("b"), headSha: "--upload-pack=touch /tmp/x" } }),
      request(socket, { v: 1, id: "c", cmd: "report", report: ["not", "an", "object"] }),
      request(socket, { v: 1, id: "d", cmd: "report", report: { ...sampleReport("d"), turns: -1 } }),
    ]);
    expect(replies.map((reply) => (reply.ok ? "ok" : reply.error.code))).toEqual(["bad-request", "bad-request", "bad-request", "bad-request"]);
    expect(replies.map((reply) => (reply.ok ? "" : reply.error.message))).toEqual([
      expect.stringContaining("report: Unrecognized keys") as unknown,
      expect.stringContaining("report.headSha") as unknown,
      expect.stringContaining("report:") as unknown,
      expect.stringContaining("report.turns") as unknown,
    ]);
    expect(reports).toEqual([]);
  });

  it("answers garbage lines each with an error and still takes a good report on the same connection", async () => {
    const { socket, reports } = await serving();
    const good = JSON.stringify({ v: 1, id: "good", cmd: "report", report: sampleReport("good") });
    const replies = await raw(socket, `not json\n42\n{"v":1,"id":"s","cmd":"send","text":"  "}\n${good}\n`, 4);
    expect(replies.map((reply) => (reply.ok ? "ok" : reply.error.code))).toEqual(["bad-json", "bad-request", "bad-request", "ok"]);
    expect(reports.map((r) => r.id)).toEqual(["good"]);
  });
});
