import { appendFile, mkdir, readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { openInstanceMirror, type InstanceMirror, type MirrorLostError } from "../../../src/adapters/fs/instance-mirror.ts";
import type { WorkerStatus } from "../../../src/core/agents/worker-status.ts";
import { WorkerLines } from "../../../src/services/coordinate/worker-lines.ts";
import { lastEventTime, readAllEvents } from "../../../src/services/workers/events.ts";
import { instancePaths } from "../../../src/services/workers/instance-files.ts";
import { collectOutbox } from "../../../src/services/workers/outbox.ts";
import { readRecordedStatus } from "../../../src/services/workers/probe.ts";
import { MirrorExit, runInstanceMirror } from "../../../src/worker/instance-mirror.ts";
import { InProcessMirrorRuntime } from "../../support/in-process-mirror.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";
import { sampleReport } from "../../support/worker-report.ts";

/**
 * The instance-directory mirror end to end in one process: the worker's
 * role (src/worker/instance-mirror.ts) on a local directory standing for the
 * container's /run/cspace, the host's end writing `<run dir>/issue-1/`, and
 * the host's own readers reading that copy. The docker lane runs the same in
 * a real container (test/docker/instance-mirror.test.ts).
 */

const tempDir = useTempDirs("mirror");

interface World {
  readonly container: string;
  readonly runDir: string;
  readonly hostDir: string;
  open(): Promise<InstanceMirror>;
}

async function world(): Promise<World> {
  const container = await tempDir();
  const runDir = await tempDir();
  const hostDir = path.join(runDir, "issue-1");
  await mkdir(hostDir);
  const runtime = new InProcessMirrorRuntime(container);
  return { container, runDir, hostDir, open: () => openInstanceMirror({ runtime, containerId: "c1", user: "1000:1000", hostDir }) };
}

const line = (n: number): string => `${JSON.stringify({ ts: `2026-05-01T10:00:${String(n).padStart(2, "0")}.000Z`, source: "agent", type: "text", text: `line ${String(n)}` })}\n`;
const lines = (from: number, to: number): string => Array.from({ length: to - from + 1 }, (_, i) => line(from + i)).join("");

function status(state: WorkerStatus["state"]): WorkerStatus {
  return { instance: "issue-1", preset: "scripted", state, exitCode: state === "exited" ? 0 : null, signal: null, turns: 1, costUsd: null, sessionId: null, lastActivity: "2026-05-01T10:00:00.000Z", queueDepth: 0, branch: "issue-1", headSha: null, pid: 7, startedAt: "2026-05-01T10:00:00.000Z" };
}

async function sameFile(w: World, file: string): Promise<void> {
  expect(await readFile(path.join(w.hostDir, file), "utf8")).toBe(await readFile(path.join(w.container, file), "utf8"));
}

describe("the instance-directory mirror", () => {
  it("copies appended events, a replaced state.json and a report moved to delivered/, and the host's readers read the copy", async () => {
    const w = await world();
    const mirror = await w.open();
    const id = "issue-1-20260501T100000000Z-aaaaaa";
    await writeFile(path.join(w.container, "events.ndjson"), lines(1, 3));
    await writeFile(path.join(w.container, "state.json"), JSON.stringify(status("working")));
    await mkdir(path.join(w.container, "outbox", "delivered"), { recursive: true });
    await writeFile(path.join(w.container, "outbox", `${id}.json`), JSON.stringify(sampleReport(id)));
    await mirror.synced();
    await sameFile(w, "events.ndjson");
    await sameFile(w, `outbox/${id}.json`);
    expect((await readRecordedStatus(instancePaths(w.runDir, "issue-1")))?.state).toBe("working");

    await appendFile(path.join(w.container, "events.ndjson"), lines(4, 5));
    await writeFile(path.join(w.container, "state.json"), JSON.stringify(status("exited")));
    await rename(path.join(w.container, "outbox", `${id}.json`), path.join(w.container, "outbox", "delivered", `${id}.json`));
    await mirror.synced();
    expect((await readAllEvents(instancePaths(w.runDir, "issue-1"))).map((e) => e.event?.text)).toEqual(["line 1", "line 2", "line 3", "line 4", "line 5"]);
    expect((await readRecordedStatus(instancePaths(w.runDir, "issue-1")))?.state).toBe("exited");
    // The dashboard's last line and the probes' last event time read the same copy.
    expect(await new WorkerLines(w.runDir).lastLines([1])).toEqual(new Map([[1, "line 5"]]));
    expect(await lastEventTime(instancePaths(w.runDir, "issue-1"))).toBe("2026-05-01T10:00:05.000Z");
    expect(await readdir(path.join(w.hostDir, "outbox"))).toEqual(["delivered"]);
    await sameFile(w, `outbox/delivered/${id}.json`);
    expect(mirror.lost).toBeNull();
    await mirror.close();
  });

  it("hands the coordinator a report in the outbox once synced() resolves", async () => {
    const w = await world();
    const mirror = await w.open();
    const id = "issue-1-20260501T100000000Z-bbbbbb";
    await mkdir(path.join(w.container, "outbox"), { recursive: true });
    await writeFile(path.join(w.container, "outbox", `${id}.json`), JSON.stringify(sampleReport(id)));
    await mirror.synced();
    const stored: string[] = [];
    const result = await collectOutbox(instancePaths(w.runDir, "issue-1"), { has: () => false, persist: (r) => { stored.push(r.id); } });
    expect(result.collected.map((r) => r.id)).toEqual([id]);
    expect(stored).toEqual([id]);
    // The collector moved the host's copy; the container's move later is no refusal.
    await mkdir(path.join(w.container, "outbox", "delivered"), { recursive: true });
    await rename(path.join(w.container, "outbox", `${id}.json`), path.join(w.container, "outbox", "delivered", `${id}.json`));
    await mirror.synced();
    await sameFile(w, `outbox/delivered/${id}.json`);
    expect(mirror.lost).toBeNull();
    await mirror.close();
  });

  it("follows events.ndjson's rotation to events.1.ndjson as a move, so neither file gains or loses a line", async () => {
    const w = await world();
    const mirror = await w.open();
    await writeFile(path.join(w.container, "events.ndjson"), lines(1, 2));
    await mirror.synced();
    await appendFile(path.join(w.container, "events.ndjson"), line(3));
    await rename(path.join(w.container, "events.ndjson"), path.join(w.container, "events.1.ndjson"));
    await writeFile(path.join(w.container, "events.ndjson"), line(4));
    await mirror.synced();
    await sameFile(w, "events.1.ndjson");
    await sameFile(w, "events.ndjson");
    expect((await readAllEvents(instancePaths(w.runDir, "issue-1"))).map((e) => e.event?.text)).toEqual(["line 1", "line 2", "line 3", "line 4"]);
    await mirror.close();
  });

  it("resumes after a restart by sending only what the host lacks, even across a rotation it missed", async () => {
    const w = await world();
    const first = await w.open();
    await writeFile(path.join(w.container, "events.ndjson"), lines(1, 3));
    await writeFile(path.join(w.container, "state.json"), JSON.stringify(status("working")));
    await first.synced();
    await first.close();

    // While no mirror runs: more lines, a rotation, a new file.
    await appendFile(path.join(w.container, "events.ndjson"), lines(4, 5));
    await rename(path.join(w.container, "events.ndjson"), path.join(w.container, "events.1.ndjson"));
    await writeFile(path.join(w.container, "events.ndjson"), lines(6, 6));
    const second = await w.open();
    await second.synced();
    await sameFile(w, "events.1.ndjson");
    await sameFile(w, "events.ndjson");
    await sameFile(w, "state.json");
    await second.close();

    await appendFile(path.join(w.container, "events.ndjson"), line(7));
    // Only the missing line is sent: the host's files are appended to or left alone, never replaced (a new inode).
    const inodes = async (): Promise<number[]> => Promise.all(["events.ndjson", "events.1.ndjson", "state.json"].map(async (name) => (await stat(path.join(w.hostDir, name))).ino));
    const before = await inodes();
    const third = await w.open();
    await third.synced();
    expect(await inodes()).toEqual(before);
    expect((await readAllEvents(instancePaths(w.runDir, "issue-1"))).map((e) => e.event?.text)).toEqual(["line 1", "line 2", "line 3", "line 4", "line 5", "line 6", "line 7"]);
    await third.close();
  });

  it("keeps the host's copy when the container's directory cannot be read, rather than removing every file", async () => {
    const w = await world();
    const notes: string[] = [];
    const mirror = await openInstanceMirror({ runtime: new InProcessMirrorRuntime(w.container), containerId: "c1", hostDir: w.hostDir, onNote: (text) => notes.push(text) });
    await writeFile(path.join(w.container, "events.ndjson"), lines(1, 2));
    await mirror.synced();
    await rename(w.container, `${w.container}.gone`);
    await mirror.synced();
    await rename(`${w.container}.gone`, w.container);
    expect(await readdir(w.hostDir)).toEqual(["events.ndjson"]);
    expect(notes).toEqual([expect.stringMatching(/^a scan of .* failed: ENOENT/)]);
    await mirror.close();
  });

  it("refuses to start without the host's instance directory, before running anything in the container", async () => {
    const w = await world();
    const runtime = new InProcessMirrorRuntime(w.container);
    await expect(openInstanceMirror({ runtime, containerId: "c1", hostDir: path.join(w.runDir, "issue-2") })).rejects.toThrow(/cannot mirror a worker's files into .*issue-2: it is not a directory/);
    expect(runtime.started).toEqual([]);
  });

  it("runs the worker bundle's mirror role as the container user it is given", async () => {
    const w = await world();
    const runtime = new InProcessMirrorRuntime(w.container);
    const mirror = await openInstanceMirror({ runtime, containerId: "c1", user: "1000:1000", hostDir: w.hostDir, pollMs: 500 });
    await mirror.close();
    expect(runtime.started).toEqual([{ command: ["node", "/opt/cspace/worker.cjs", "mirror", "/run/cspace", "--poll-ms", "500", "--beat-ms", "5000"], options: { user: "1000:1000" } }]);
  });

  it("leaves links, FIFOs and unknown names out, saying why, and never touches the sockets in the host's copy", async () => {
    const w = await world();
    const notes: string[] = [];
    const runtime = new InProcessMirrorRuntime(w.container);
    await writeFile(path.join(w.hostDir, "c.sock"), "the relay's");
    const { symlink } = await import("node:fs/promises");
    await symlink("/etc/passwd", path.join(w.container, "state.json"));
    await writeFile(path.join(w.container, "w.sock"), "not mirrored");
    await writeFile(path.join(w.container, "c.sock"), "not mirrored");
    await writeFile(path.join(w.container, "notes.txt"), "not mirrored");
    const mirror = await openInstanceMirror({ runtime, containerId: "c1", hostDir: w.hostDir, onNote: (text) => notes.push(text) });
    await mirror.synced();
    expect((await readdir(w.hostDir)).sort()).toEqual(["c.sock"]);
    expect(await readFile(path.join(w.hostDir, "c.sock"), "utf8")).toBe("the relay's");
    expect(notes).toEqual(["state.json is not a regular file (a link, a FIFO or a directory): it is not mirrored"]);
    await mirror.close();
  });
});

describe("the host's end refuses a hostile stream", () => {
  const hello = JSON.stringify({ t: "hello", v: 1 });
  const b64 = (text: string): string => Buffer.from(text).toString("base64");

  async function refusal(frames: readonly string[]): Promise<{ readonly error: MirrorLostError; readonly runDir: string; readonly hostDir: string }> {
    const container = await tempDir();
    const runDir = await tempDir();
    const hostDir = path.join(runDir, "issue-1");
    await mkdir(hostDir);
    const mirror = await openInstanceMirror({ runtime: new InProcessMirrorRuntime(container, [hello, ...frames]), containerId: "c1", hostDir });
    const error = await new Promise<MirrorLostError>((resolve) => { mirror.onLost(resolve); });
    await expect(mirror.synced()).rejects.toBe(error);
    await mirror.close();
    return { error, runDir, hostDir };
  }

  it.each([
    ["a path outside the directory", { t: "put", path: "../escape.json", data: b64("x") }, /"\.\.\/escape\.json" has an empty, "\." or "\.\." part/],
    ["an absolute path", { t: "put", path: "/etc/cron.d/x", data: b64("x") }, /is absolute/],
    ["a NUL in a name", { t: "put", path: "state.json\u0000x", data: b64("x") }, /NUL/],
    ["a name the host does not read", { t: "put", path: "launch.json", data: b64("{}") }, /"launch\.json" is not a file cspace mirrors/],
    ["a socket's name", { t: "remove", path: "c.sock" }, /"c\.sock" is not a file cspace mirrors/],
    ["a dot-file in the outbox", { t: "put", path: "outbox/.x.json", data: b64("{}") }, /not a file cspace mirrors/],
    ["an append at an offset the host does not hold", { t: "append", path: "events.ndjson", offset: 5, data: b64("x") }, /which the host does not hold/],
    ["an append to a record", { t: "append", path: "state.json", offset: 0, data: b64("x") }, /replaced whole, never appended to/],
    ["a record beyond its limit", { t: "put", path: "state.json", data: Buffer.alloc(1024 * 1024 + 1).toString("base64") }, /more than the 1048576 the host keeps of it/],
    ["a move of a file the host lacks", { t: "move", from: "events.ndjson", to: "events.1.ndjson" }, /which the host does not hold/],
    ["a synced nobody asked for", { t: "synced", id: 9 }, /which the host did not ask for/],
    ["a frame of an unknown type", { t: "chmod", path: "state.json" }, /unknown type/],
    ["data that is not base64", { t: "put", path: "state.json", data: "not base64!" }, /base64/],
  ])("%s", async (_what, frame, reason) => {
    const { error, runDir } = await refusal([JSON.stringify(frame)]);
    expect(error.message).toMatch(reason);
    expect(await readdir(runDir)).toEqual(["issue-1"]);
    expect(await readdir(path.join(runDir, "issue-1"))).toEqual([]);
  });

  it("an append that would pass the events limit", async () => {
    const chunk = Buffer.alloc(256 * 1024, 0x61).toString("base64");
    const frames = [JSON.stringify({ t: "put", path: "events.ndjson", data: chunk })];
    for (let offset = 256 * 1024; offset <= 16 * 1024 * 1024; offset += 256 * 1024) frames.push(JSON.stringify({ t: "append", path: "events.ndjson", offset, data: chunk }));
    const { error, hostDir } = await refusal(frames);
    expect(error.message).toMatch(/events\.ndjson would be 16777216\d* bytes|events\.ndjson would be \d+ bytes, more than the 16777216/);
    expect((await readFile(path.join(hostDir, "events.ndjson"))).length).toBe(16 * 1024 * 1024);
  });

  it("too many files", async () => {
    const frames = Array.from({ length: 2100 }, (_, i) => JSON.stringify({ t: "put", path: `outbox/r${String(i)}.json`, data: b64("{}") }));
    const { error, hostDir } = await refusal(frames);
    expect(error.message).toMatch(/more than the 2048 the host keeps of an instance/);
    expect((await readdir(path.join(hostDir, "outbox"))).length).toBe(2048);
  });

  it("a line with no end", async () => {
    const { error } = await refusal(["x".repeat(3 * 1024 * 1024)]);
    expect(error.message).toMatch(/a line longer than the 2097152 bytes/);
  });

  it("a first frame that is not hello", async () => {
    const container = await tempDir();
    const hostDir = path.join(await tempDir(), "issue-1");
    await mkdir(hostDir);
    const mirror = await openInstanceMirror({ runtime: new InProcessMirrorRuntime(container, [JSON.stringify({ t: "put", path: "state.json", data: b64("{}") })]), containerId: "c1", hostDir });
    const error = await new Promise<MirrorLostError>((resolve) => { mirror.onLost(resolve); });
    expect(error.message).toMatch(/first frame is not hello version 1/);
    expect(await readdir(hostDir)).toEqual([]);
  });
});

describe("the worker's end of the mirror", () => {
  const have = `${JSON.stringify({ t: "have", v: 1, limits: { events: 1000, log: 1000, record: 1000 }, files: {} })}\n`;

  it("exits 0 at the end of its input", async () => {
    const input = new PassThrough();
    const exited = runInstanceMirror({ dir: await tempDir(), input, output: new PassThrough(), pollMs: 60_000, beatMs: 60_000 });
    input.end(have);
    expect(await exited).toBe(MirrorExit.ok);
  });

  it("exits when the host's heartbeat stops, though its input stays open (a client that vanished)", async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const frames: string[] = [];
    output.on("data", (chunk: Buffer) => frames.push(...chunk.toString("utf8").split("\n").filter((text) => text !== "")));
    const exited = runInstanceMirror({ dir: await tempDir(), input, output, pollMs: 60_000, beatMs: 20 });
    input.write(have);
    expect(await exited).toBe(MirrorExit.hostGone);
    expect(frames[0]).toBe(JSON.stringify({ t: "hello", v: 1 }));
  });
});
