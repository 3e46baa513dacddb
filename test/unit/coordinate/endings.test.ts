import { afterEach, describe, expect, it } from "vitest";
import type { CoordinatorEvent } from "../../../src/core/coordinator/events.ts";
import type { CoordinatorProgress } from "../../../src/core/coordinator-runtime/progress.ts";
import { MAX_ACTION_FAILURES, retryDelayMs } from "../../../src/core/coordinator-runtime/retry.ts";
import { ExternalError } from "../../../src/core/errors.ts";
import { coordinate } from "../../../src/services/coordinate/coordinate.ts";
import { issue } from "../../fakes/issues.ts";
import type { FakeWorkerScript } from "../../fakes/worker-pool.ts";
import { makeProject, type TempProject } from "../../support/temp-project.ts";
import { CoordinatorWorld } from "./world.ts";

/**
 * Every run ends (issue 12, items 7 and 8): an action that fails every time
 * is given up and fails its issue, a verify that hangs is ended by its
 * timeout, and a skip stops what is in flight for the issue.
 */

const projects: TempProject[] = [];
afterEach(async () => {
  for (const project of projects.splice(0)) await project.remove();
});

interface SetUp {
  readonly deps: Readonly<Record<number, readonly number[]>>;
  readonly scripts?: Readonly<Record<number, FakeWorkerScript>>;
  readonly verifyTimeoutMs?: number;
}

async function setUp({ deps, scripts = {}, verifyTimeoutMs }: SetUp) {
  const project = await makeProject({ config: { project: { name: "endings" }, forge: { type: "local" }, verify: { all: "npm test" }, coordinator: { maxParallel: 2, maxAttempts: 2 } } });
  projects.push(project);
  const world = new CoordinatorWorld(deps, scripts);
  const events: CoordinatorEvent[] = [];
  const listeners: ((progress: CoordinatorProgress) => void)[] = [];
  const onProgress = (progress: CoordinatorProgress): void => {
    if (progress.kind === "event") events.push(progress.event);
    for (const listener of listeners) listener(progress);
  };
  const run = (extra: { readonly resume?: boolean } = {}) =>
    coordinate({ cwd: project.dir, env: { CSPACE_RUN_DIR: `${project.dir}/run` }, numbers: Object.keys(deps).map(Number), ports: world.ports(), onProgress, probeIntervalMs: 50, retryDelayMs: 5, verifyTimeoutMs, ...extra });
  const on = (match: (progress: CoordinatorProgress) => boolean, then: () => void): void => {
    let done = false;
    listeners.push((progress) => {
      if (done || !match(progress)) return;
      done = true;
      then();
    });
  };
  return { world, events, run, on };
}

describe("an action that fails every time", () => {
  it("is tried MAX_ACTION_FAILURES times, then its issue fails naming the action and the error, and the others merge", async () => {
    const { world, run } = await setUp({ deps: { 10: [], 11: [] } });
    // As git refuses a NUL byte in a commit message: the squash of #10 can never be made.
    world.forge.addIssues([issue(10, { title: "Title with a \u0000 byte" })]);
    const squash = world.forge.squashMerge.bind(world.forge);
    world.forge.squashMerge = (pr, options) =>
      options.title.includes("\u0000") ? Promise.reject(new ExternalError("git commit-tree failed: error: a NUL byte in commit log message not allowed.")) : squash(pr, options);

    const result = await run();

    expect(result.exitCode).toBe(1);
    expect(result.report.rows.map((row) => [row.issue, row.status])).toEqual([[10, "failed"], [11, "merged"]]);
    expect(result.report.rows[0]?.reason).toBe(`Merge failed ${String(MAX_ACTION_FAILURES)} times in a row: git commit-tree failed: error: a NUL byte in commit log message not allowed.`);
  });

  it("is given up where the crashed run would have: a resumed run counts on from the failures in the log", async () => {
    const { world, run } = await setUp({ deps: { 10: [] } });
    const nul = new ExternalError("git commit-tree failed: error: a NUL byte in commit log message not allowed.");
    let tries = 0;
    world.forge.squashMerge = () => {
      tries++;
      // The coordinator dies as it records the fourth failure: three are durable.
      if (tries === 4) world.store.failNextAppend(new Error("killed"));
      return Promise.reject(nul);
    };

    await expect(run()).rejects.toThrow("killed");
    expect(tries).toBe(4);
    const result = await run({ resume: true });

    expect(result.report.rows.map((row) => [row.issue, row.status])).toEqual([[10, "failed"]]);
    expect(result.report.rows[0]?.reason).toBe(`Merge failed ${String(MAX_ACTION_FAILURES)} times in a row: ${nul.message}`);
    // Three failures were recorded before the crash: the resumed run tries MAX_ACTION_FAILURES - 3 more, not MAX_ACTION_FAILURES.
    expect(tries - 4).toBe(MAX_ACTION_FAILURES - 3);
  });

  it("waits longer after each failure in a row, up to a cap", () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, 2_000, 60_000))).toEqual([2_000, 4_000, 8_000, 16_000, 32_000]);
    expect(retryDelayMs(7, 2_000, 60_000)).toBe(60_000);
    expect(retryDelayMs(1_000, 2_000, 60_000)).toBe(60_000);
  });

  it("failing on an issue already merged leaves its outcome, and the run still ends", async () => {
    const { world, run } = await setUp({ deps: { 10: [] } });
    world.forge.failAlways("closeIssue", new ExternalError("the forge refuses to close #10"));

    const result = await run();

    expect(result.report.rows.map((row) => [row.issue, row.status])).toEqual([[10, "merged"]]);
    expect(world.forge.callsOf("closeIssue")).toHaveLength(MAX_ACTION_FAILURES);
  });
});

describe("a verify that hangs", () => {
  it("is ended by verify.timeout and counts as a failed verify whose reason says so; the issue fails after its attempts", async () => {
    const { world, events, run } = await setUp({ deps: { 10: [], 11: [] }, scripts: { 10: { verify: ["hang", "hang"] } }, verifyTimeoutMs: 30 });

    const result = await run();

    expect(result.report.rows.map((row) => [row.issue, row.status])).toEqual([[10, "failed"], [11, "merged"]]);
    const failed = events.filter((event) => event.type === "VerifyFailed");
    expect(failed).toHaveLength(2);
    expect(failed[0]).toMatchObject({ issue: 10, command: "npm test", exitCode: null, outputTail: "verify timed out after 30 ms" });
    expect(result.report.rows[0]?.reason).toContain("npm test did not finish: verify timed out after 30 ms");
    expect(world.workers.launchesOf(10)).toHaveLength(2);
  });

  it("is stopped by a skip of its issue, and the run ends", async () => {
    // verify.timeout is the default 30 minutes: only the skip can end this verify.
    const { world, run, on } = await setUp({ deps: { 10: [], 11: [] }, scripts: { 10: { verify: ["hang"] } } });
    on((progress) => progress.kind === "action" && progress.action.type === "Verify" && progress.action.issue === 10, () => {
      void world.operator.send("skip 10 its verify hangs");
    });

    const result = await run();

    expect(result.report.rows.map((row) => [row.issue, row.status])).toEqual([[10, "blocked"], [11, "merged"]]);
    expect(result.report.rows[0]?.reason).toBe("its verify hangs");
  });
});
