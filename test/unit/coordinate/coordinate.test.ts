import { afterEach, describe, expect, it } from "vitest";
import type { EventStore, NewEvent } from "../../../src/core/coordinator-store/port.ts";
import type { CoordinatorProgress } from "../../../src/core/coordinator-runtime/progress.ts";
import { coordinate } from "../../../src/services/coordinate/coordinate.ts";
import { makeProject, type TempProject } from "../../support/temp-project.ts";
import type { FakeWorkerScript } from "../../fakes/worker-pool.ts";
import { CoordinatorWorld } from "./world.ts";

const projects: TempProject[] = [];
afterEach(async () => {
  for (const project of projects.splice(0)) await project.remove();
});

async function setUp(deps: Readonly<Record<number, readonly number[]>>, scripts: Readonly<Record<number, FakeWorkerScript>> = {}) {
  const project = await makeProject({ config: { project: { name: "coord" }, forge: { type: "local" }, verify: { all: "npm test" }, coordinator: { maxParallel: 2, maxAttempts: 2 } } });
  projects.push(project);
  const world = new CoordinatorWorld(deps, scripts);
  const progress: CoordinatorProgress[] = [];
  const run = (extra: { resume?: boolean; signal?: AbortSignal } = {}) =>
    coordinate({ cwd: project.dir, env: { CSPACE_RUN_DIR: `${project.dir}/run` }, numbers: Object.keys(deps).map(Number), ports: world.ports(), onProgress: (p) => progress.push(p), probeIntervalMs: 50, retryDelayMs: 10, ...extra });
  return { world, progress, run, project };
}

describe("coordinate on fakes", () => {
  it("takes a chain 10 ← 12 ← 14 to merged code, stacked, in dependency order", async () => {
    const { world, run } = await setUp({ 10: [], 12: [10], 14: [12] });
    const result = await run();
    expect(result.exitCode).toBe(0);
    expect(result.report.rows.map((r) => r.status)).toEqual(["merged", "merged", "merged"]);
    const merges = world.forge.callsOf("squashMerge").map((args) => args[0]);
    expect(merges).toHaveLength(3);
    const pulls = await Promise.all([10, 12, 14].map((n) => world.forge.findPullRequest(`issue-${String(n)}`)));
    // The feature branch is the default branch here; 12 and 14 were retargeted there before their parents' branches went.
    expect(pulls.map((p) => [p?.state, p?.base])).toEqual([["merged", "main"], ["merged", "main"], ["merged", "main"]]);
    expect(world.workers.launchesOf(12)[0]?.base).toBe("issue-10");
    expect(await world.forge.branchHead("issue-10")).toBeNull();
  });

  it("titles each squash commit on the local forge with the issue it closes, not the pull request's number", async () => {
    const { world, run } = await setUp({ 10: [], 12: [10] });
    expect((await run()).exitCode).toBe(0);
    const titles = world.forge.callsOf("squashMerge").map((args) => (args[1] as { title: string }).title);
    const prs = world.forge.callsOf("squashMerge").map((args) => args[0] as number);
    // Pull requests are numbered apart from issues here: "(#1)" would name issue 1, which is not in this run.
    expect(titles.map((title) => title.replace(/^.* \(/, "("))).toEqual(["(closes #10)", "(closes #12)"]);
    for (const pr of prs) expect(titles.join(" ")).not.toContain(`(#${String(pr)})`);
  });
});

describe("coordinate on fakes: shapes and faults", () => {
  it("merges a diamond (13 on 11 and 12) after both its dependencies", async () => {
    const { world, run } = await setUp({ 11: [], 12: [], 13: [11, 12] });
    const result = await run();
    expect(result.exitCode).toBe(0);
    const order = world.forge.callsOf("squashMerge").map((args) => args[0] as number);
    const prOf = async (n: number) => (await world.forge.findPullRequest(`issue-${String(n)}`))?.number;
    expect(order.indexOf((await prOf(13)) ?? -1)).toBe(2);
    // Two unmerged dependencies: 13 waits until at most one is left, then stacks on it (or starts on the feature branch).
    expect(["issue-11", "issue-12", "main"]).toContain(world.workers.launchesOf(13)[0]?.base);
    expect(world.workers.launchesOf(13)).toHaveLength(1);
  });

  it("retries a failing agent, then fails it after maxAttempts and blocks its dependents; the rest merges", async () => {
    const { world, run } = await setUp({ 10: [], 11: [], 12: [10] }, { 10: { attempts: ["failure", "crash"] }, 11: { attempts: ["failure"] } });
    const result = await run();
    expect(result.exitCode).toBe(1);
    expect(result.report.rows.map((r) => [r.issue, r.status])).toEqual([[10, "failed"], [11, "merged"], [12, "blocked"]]);
    expect(world.workers.launchesOf(10).map((l) => l.why)).toEqual(["initial", "retry"]);
    expect(world.workers.launchesOf(11).map((l) => l.why)).toEqual(["initial", "retry"]);
    expect(world.workers.launchesOf(12)).toHaveLength(0);
    // 10 never pushed work of its own: the empty branch the run made for it is gone.
    expect(await world.forge.branchHead("issue-10")).toBeNull();
  });

  it("records a blocked worker, keeps it, blocks its dependents, and carries on with the rest", async () => {
    const { world, run } = await setUp({ 10: [], 11: [], 12: [10] }, { 10: { attempts: ["blocked"] } });
    const result = await run();
    expect(result.report.rows.map((r) => [r.issue, r.status])).toEqual([[10, "blocked"], [11, "merged"], [12, "blocked"]]);
    expect(world.workers.launchesOf(10)).toHaveLength(1);
    expect(result.exitCode).toBe(1);
  });

  it("retries an issue whose verify fails, and relaunches a worker whose container is lost", async () => {
    const { world, run } = await setUp({ 10: [], 11: [] }, { 10: { verify: ["fail"] }, 11: { attempts: ["lost"] } });
    const result = await run();
    expect(result.exitCode).toBe(0);
    expect(world.workers.launchesOf(10).map((l) => l.why)).toEqual(["initial", "retry"]);
    expect(world.workers.launchesOf(11).map((l) => l.why)).toEqual(["initial", "retry"]);
  });

  it("relaunches a lost worker as soon as its container dies, without waiting for the next probe", async () => {
    const { world, progress, project } = await setUp({ 10: [] }, { 10: { attempts: ["lost"] } });
    // Probes an hour apart: only the engine's event can bring the loss to notice.
    const result = await coordinate({ cwd: project.dir, env: { CSPACE_RUN_DIR: `${project.dir}/run` }, numbers: [10], ports: world.ports(), onProgress: (p) => progress.push(p), probeIntervalMs: 3_600_000, retryDelayMs: 10 });
    expect(result.exitCode).toBe(0);
    expect(world.workers.launchesOf(10).map((l) => l.why)).toEqual(["initial", "retry"]);
    const lost = progress.flatMap((p) => (p.kind === "event" && p.event.type === "WorkerLost" ? [p.event] : []));
    expect(lost.map((e) => [e.issue, e.attempt])).toEqual([[10, 1]]);
  });

  it("counts an agent that exited with no report anywhere as lost, after a few probes, and relaunches it", async () => {
    const { world, progress, run } = await setUp({ 10: [], 11: [] }, { 10: { attempts: ["silent"] } });
    const result = await run();
    expect(result.exitCode).toBe(0);
    expect(world.workers.launchesOf(10).map((l) => l.why)).toEqual(["initial", "retry"]);
    expect(world.workers.launchesOf(11)).toHaveLength(1);
    const lost = progress.flatMap((p) => (p.kind === "event" && p.event.type === "WorkerLost" ? [p.event] : []));
    expect(lost.map((e) => [e.issue, e.reason])).toEqual([[10, "the agent exited and its supervisor sent no report"]]);
    expect(result.report.rows.find((r) => r.issue === 10)?.attempts).toBe(2);
  });

  it("fails an issue whose agent cannot be started maxAttempts times in a row, instead of trying for ever; the rest merges", async () => {
    const { world, run } = await setUp({ 10: [], 11: [], 12: [10] }, { 10: { launch: ["fail", "fail", "fail"] }, 11: { launch: ["fail"] } });
    const result = await run();
    expect(result.exitCode).toBe(1);
    expect(result.report.rows.map((r) => [r.issue, r.status])).toEqual([[10, "failed"], [11, "merged"], [12, "blocked"]]);
    expect(result.report.rows[0]?.reason).toBe(`its agent could not be started (2 tries): the agent could not be started: the claude agent's executable "claude" is not on the container user's PATH`);
    // 11 could not start once, then did: a start failure between two that work is not counted against it.
    expect(world.workers.launchesOf(11)).toHaveLength(1);
    expect(world.workers.launchesOf(10)).toHaveLength(0);
  });

  it("fetches each launch's base from the forge into the store first, so the agent's origin/<base> is current", async () => {
    const { world, project } = await setUp({ 10: [], 12: [10] });
    const fetched: string[][] = [];
    const mover = world.mover;
    const recording = { ...mover, fetch: (branches: readonly string[]) => { fetched.push([...branches]); return mover.fetch(branches); } };
    const result = await coordinate({ cwd: project.dir, env: { CSPACE_RUN_DIR: `${project.dir}/run` }, numbers: [10, 12], ports: { ...world.ports(), branches: () => recording }, probeIntervalMs: 50, retryDelayMs: 10 });
    expect(result.exitCode).toBe(0);
    // 10 starts on the feature branch, 12 on issue-10 (stacked): each fetched before its launch.
    expect(fetched).toContainEqual(["main"]);
    expect(fetched).toContainEqual(["issue-10"]);
  });

  it("stacks 12 on 10 only once 10's head is pushed and verified, and its prompt names that head and 10's commits", async () => {
    const { world, run } = await setUp({ 10: [], 12: [10] });
    const result = await run();
    expect(result.exitCode).toBe(0);
    const [launch] = world.workers.launchesOf(12);
    expect(launch?.base).toBe("issue-10");
    // Where 12 starts is 10's pushed head, with 10's commit on it: the prompt says exactly that.
    const tenHead = launch?.baseSha ?? "";
    expect(launch?.headSha).toBe(tenHead);
    expect(await world.forge.repository.message(tenHead)).toBe("#10: work");
    expect(launch?.prompt).toContain(`\`issue-12\` starts from \`issue-10\` at commit \`${tenHead.slice(0, 12)}\`.`);
    expect(launch?.prompt).toContain(`  - \`${tenHead.slice(0, 12)}\` #10: work`);
    expect(launch?.prompt).not.toContain("nothing yet");
  });

  it("refuses to start a run when the container engine does not answer (exit 3), recording nothing", async () => {
    const { world, run } = await setUp({ 10: [] });
    world.runtime.down = true;
    await expect(run()).rejects.toThrow(/cannot reach the Docker engine/);
    expect(await world.store.latestRun()).toBeUndefined();
  });

  it("refuses a second coordinator on the same project, naming the first", async () => {
    const { world, run } = await setUp({ 10: [] });
    const held = await world.lock.acquire();
    await expect(run()).rejects.toThrow(/coordinator/i);
    await held.release();
  });
});

/** The store of a coordinator killed after `after` more events: every later append fails, as if the process died. */
function dyingAfter(store: EventStore, after: number): EventStore {
  let left = after;
  return {
    startRun: (meta, at) => store.startRun(meta, at),
    append: (runId: string, events: readonly NewEvent[]) => {
      if (left < events.length) return Promise.reject(new Error("killed"));
      left -= events.length;
      return store.append(runId, events);
    },
    read: (runId, from) => store.read(runId, from),
    readSince: (seq, options) => store.readSince(seq, options),
    latestRun: () => store.latestRun(),
    runs: () => store.runs(),
    close: () => Promise.resolve(),
  };
}

describe("coordinate on fakes: crash and resume", () => {
  for (const after of [3, 8, 14, 20, 27, 35]) {
    it(`stopped after ${String(after)} events, a resumed run ends in the same merged result with nothing done twice`, async () => {
      const { world, run, project } = await setUp({ 10: [], 11: [], 12: [10] });
      const store = world.store;
      const ports = world.ports();
      await expect(
        coordinate({ cwd: project.dir, env: { CSPACE_RUN_DIR: `${project.dir}/run` }, numbers: [10, 11, 12], ports: { ...ports, eventStore: () => dyingAfter(store, after) }, probeIntervalMs: 50, retryDelayMs: 10 }),
      ).rejects.toThrow("killed");
      // Agents still running in the old world finish; their reports wait in the outbox.
      await new Promise((resolve) => setTimeout(resolve, 30));
      const result = await run({ resume: true });
      expect(result.exitCode).toBe(0);
      expect(result.report.rows.map((r) => r.status)).toEqual(["merged", "merged", "merged"]);
      const merges = world.forge.callsOf("squashMerge").map((args) => args[0] as number);
      expect(new Set(merges).size).toBe(3);
      const keys = world.workers.launches.map((l) => `${String(l.issue)}:${String(l.attempt)}`);
      expect(new Set(keys).size).toBe(keys.length);
      expect(keys.filter((k) => k.endsWith(":2"))).toEqual([]);
      const feature = await world.forge.branchHead("main");
      expect(feature).not.toBeNull();
    });
  }
});
