import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { replayLog } from "../../../src/core/coordinator/log.ts";
import { UserError } from "../../../src/core/errors.ts";
import { abandonRun, coordinate } from "../../../src/services/coordinate/coordinate.ts";
import { runStatus } from "../../../src/services/coordinate/run-status.ts";
import { FakeEventLog, FakeEventStore } from "../../fakes/event-store.ts";
import { makeProject, type TempProject } from "../../support/temp-project.ts";
import { CoordinatorWorld } from "./world.ts";

/**
 * The coordinator's log across versions and faults: a log written before
 * the event registry still replays and resumes; an event that cannot be
 * applied is reported by its sequence number with a way out (`--abandon`),
 * never a project that cannot coordinate again; and a run whose start fails
 * blocks no later run.
 */

const FIXTURE = path.join(import.meta.dirname, "../../fixtures/coordinator-log/before-registry.ndjson");
const FIRST_RUN = "20261206-112412-15e49b";
const SECOND_RUN = "20261206-112412-023535";

const projects: TempProject[] = [];
afterEach(async () => {
  for (const project of projects.splice(0)) await project.remove();
});

type FixtureLine = ({ table: "runs" } & FakeEventLog["runs"][number]) | ({ table: "events" } & FakeEventLog["events"][number]);

/** The fixture's rows in a fake store's "disk", as the SQLite table had them. */
async function fixtureLog(): Promise<FakeEventLog> {
  const log = new FakeEventLog();
  const lines = (await readFile(FIXTURE, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as FixtureLine);
  for (const line of lines) {
    if (line.table === "runs") log.runs.push({ runId: line.runId, startedAt: line.startedAt, meta: line.meta });
    else log.events.push({ seq: line.seq, runId: line.runId, at: line.at, type: line.type, data: line.data });
  }
  log.nextSeq = Math.max(...log.events.map((event) => event.seq)) + 1;
  return log;
}

async function setUp(log: FakeEventLog, options: { config?: Record<string, unknown> } = {}) {
  const project = await makeProject({ config: { project: { name: "coord" }, forge: { type: "local" }, verify: { all: "npm test" }, coordinator: { maxParallel: 2, maxAttempts: 2 }, ...options.config } });
  projects.push(project);
  const world = new CoordinatorWorld({ 10: [], 11: [], 12: [10], 20: [], 21: [20] });
  // One store per opening over the same "disk", as separate processes on one SQLite file: `status` closes its own.
  const store = new FakeEventStore({ log });
  const ports = { ...world.ports(), eventStore: () => new FakeEventStore({ log }) };
  const env = { CSPACE_RUN_DIR: `${project.dir}/run` };
  const run = (extra: { numbers?: number[]; resume?: boolean } = {}) => coordinate({ cwd: project.dir, env, ports, probeIntervalMs: 50, retryDelayMs: 10, ...extra });
  return { world, store, ports, run, project, status: () => runStatus({ cwd: project.dir, env, ports }), abandon: () => abandonRun({ cwd: project.dir, env, ports }) };
}

describe("a log written before the event registry (test/fixtures/coordinator-log)", () => {
  it("replays its finished run with every event read, its RunFinished upcast to the current version", async () => {
    const { store } = await setUp(await fixtureLog());
    const { state, problems } = replayLog(await store.read(FIRST_RUN));
    expect(problems).toEqual([]);
    expect(state.finished).toMatchObject({ exitCode: 0, abandoned: null });
    expect(Object.values(state.issues).map((issue) => [issue.number, issue.status.kind, issue.attempts.length])).toEqual([
      [10, "merged", 3],
      [11, "merged", 3],
      [12, "merged", 2],
    ]);
  });

  it("resumes its unfinished run with the new code, to merged issues", async () => {
    const { run, status } = await setUp(await fixtureLog());
    const result = await run({ resume: true });
    expect(result.runId).toBe(SECOND_RUN);
    expect(result.exitCode).toBe(0);
    expect(result.report.rows.map((row) => [row.issue, row.status])).toEqual([[20, "merged"], [21, "merged"]]);
    expect((await status()).report?.problems).toEqual([]);
  });
});

describe("an event that cannot be applied (issue 12: a report with outcome \"bogus\" in the log)", () => {
  /** The fixture's unfinished run with the report a coordinator before the fix recorded, unchecked, as it was sent. */
  async function poisoned() {
    const world = await setUp(await fixtureLog());
    const [seq] = await world.store.append(SECOND_RUN, [{ type: "Reported", data: { issue: 20, attempt: 1, report: { id: "x", outcome: "bogus" } } }]);
    return { ...world, seq: seq ?? 0 };
  }

  it("shows the run in status with the problem named by its sequence number", async () => {
    const { status, seq } = await poisoned();
    const { report } = await status();
    expect(report?.runId).toBe(SECOND_RUN);
    expect(report?.problems).toEqual([{ seq, type: "Reported", reason: expect.stringContaining("Reported.report.outcome") as unknown }]);
    expect(report?.rows.map((row) => row.issue)).toEqual([20, 21]);
  });

  it("refuses --resume and a new run with a user error naming the event and --abandon", async () => {
    const { run, seq } = await poisoned();
    for (const attempt of [() => run({ resume: true }), () => run({ numbers: [20] })]) {
      const error = await attempt().then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).message).toContain(`event #${String(seq)} (Reported)`);
      expect((error as UserError).hint).toContain("cspace coordinate --abandon");
    }
  });

  it("--abandon ends the run, keeps its log for status, and lets a new run start and merge", async () => {
    const { run, status, abandon, seq } = await poisoned();
    const abandoned = await abandon();
    expect(abandoned.runId).toBe(SECOND_RUN);
    expect(abandoned.problems.map((p) => p.seq)).toEqual([seq]);
    const after = await status();
    expect(after.report).toMatchObject({ runId: SECOND_RUN, abandoned: expect.stringContaining("--abandon") as unknown, exitCode: 1 });
    expect(after.report?.finishedAt).not.toBeNull();
    await expect(abandon()).rejects.toThrow(/already finished/);
    const fresh = await run({ numbers: [20, 21] });
    expect(fresh.runId).not.toBe(SECOND_RUN);
    expect(fresh.exitCode).toBe(0);
  });
});

describe("a run whose start fails before its first launch (issue 12, item 9)", () => {
  it("is refused before any run is recorded when a template is missing", async () => {
    const { store, project, ports } = await setUp(new FakeEventLog(), { config: { templates: { implementer: "missing-template.md" } } });
    const env = { CSPACE_RUN_DIR: `${project.dir}/run` };
    await expect(coordinate({ cwd: project.dir, env, ports, numbers: [10] })).rejects.toThrow(/missing-template\.md/);
    expect(await store.latestRun()).toBeUndefined();
  });

  it("is ended as abandoned, with the reason, when a port fails after RunStarted: the next run starts", async () => {
    const { store, run, ports, project, status } = await setUp(new FakeEventLog());
    const env = { CSPACE_RUN_DIR: `${project.dir}/run` };
    const broken = { ...ports, operator: () => Promise.reject(new Error("the operator socket is taken")) };
    await expect(coordinate({ cwd: project.dir, env, ports: broken, numbers: [10] })).rejects.toThrow(/operator socket is taken/);
    const first = await store.latestRun();
    expect((await status()).report).toMatchObject({ runId: first?.runId, abandoned: expect.stringContaining("could not start: the operator socket is taken") as unknown });
    const next = await run({ numbers: [10] });
    expect(next.runId).not.toBe(first?.runId);
    expect(next.exitCode).toBe(0);
  });
});
