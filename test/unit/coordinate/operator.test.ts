import { afterEach, describe, expect, it } from "vitest";
import type { CoordinatorEvent } from "../../../src/core/coordinator/events.ts";
import type { CoordinatorProgress } from "../../../src/core/coordinator-runtime/progress.ts";
import type { EventStore } from "../../../src/core/coordinator-store/port.ts";
import { coordinate } from "../../../src/services/coordinate/coordinate.ts";
import { runStatus, type RunStatus } from "../../../src/services/coordinate/run-status.ts";
import { renderRunReport } from "../../../src/ui/coordinate-report.ts";
import { makeProject, type TempProject } from "../../support/temp-project.ts";
import { CoordinatorWorld } from "./world.ts";

/**
 * A person talking to the running coordinator (`cspace send _coordinator`
 * on the host) and a worker talking to it from its container: each becomes
 * an event in the log before it is answered, and pause, resume and skip
 * change what the run does.
 */

const projects: TempProject[] = [];
afterEach(async () => {
  for (const project of projects.splice(0)) await project.remove();
});

async function setUp(
  deps: Readonly<Record<number, readonly number[]>>,
  agentMs: number,
  options: { readonly config?: Record<string, unknown>; readonly world?: ConstructorParameters<typeof CoordinatorWorld>[2]; readonly scripts?: ConstructorParameters<typeof CoordinatorWorld>[1] } = {},
) {
  // Stacking off: 12 waits for 10's merge, so holding merges holds it.
  const project = await makeProject({ config: { project: { name: "operator" }, forge: { type: "local" }, coordinator: { maxParallel: 2, stacking: false }, ...options.config } });
  projects.push(project);
  const world = new CoordinatorWorld(deps, options.scripts ?? {}, { agentMs, ...options.world });
  const events: CoordinatorEvent[] = [];
  const listeners: ((event: CoordinatorEvent) => void)[] = [];
  const onProgress = (progress: CoordinatorProgress): void => {
    if (progress.kind !== "event") return;
    events.push(progress.event);
    for (const listener of listeners) listener(progress.event);
  };
  const run = () => coordinate({ cwd: project.dir, env: { CSPACE_RUN_DIR: `${project.dir}/run` }, numbers: Object.keys(deps).map(Number), ports: world.ports(), onProgress, probeIntervalMs: 50, retryDelayMs: 10 });
  /** Resolves at the first event (recorded from now on) that matches. */
  const next = (match: (event: CoordinatorEvent) => boolean): Promise<CoordinatorEvent> =>
    new Promise((resolve) => listeners.push((event) => { if (match(event)) resolve(event); }));
  return { world, events, run, next, project };
}

const is = (type: CoordinatorEvent["type"], issue?: number) => (event: CoordinatorEvent): boolean =>
  event.type === type && (issue === undefined || ("issue" in event && event.issue === issue));

describe("the operator's commands to a running coordinator", () => {
  it("pause holds merges and launches until resume; the run then ends merged, in order", async () => {
    const { world, events, run, next, project } = await setUp({ 10: [], 12: [10] }, 150);
    void next(is("Launched", 10)).then(() => world.operator.send("pause"));
    // Paused while 10's agent works: its pull request opens, nothing merges; `cspace status` says so; then resumed.
    const seen: { whilePaused?: RunStatus } = {};
    void next(is("PullRequestOpened", 10)).then(async () => {
      const otherTerminal = { ...world.ports(), eventStore: () => world.store.anotherHandle() };
      seen.whilePaused = await runStatus({ cwd: project.dir, env: { CSPACE_RUN_DIR: `${project.dir}/run` }, ports: otherTerminal });
      await world.operator.send("resume");
    });
    const result = await run();
    expect(seen.whilePaused?.report?.paused).toBe(true);
    expect(renderRunReport(seen.whilePaused?.report ?? result.report, (_tone, text) => text)[1]).toBe('Paused: no launch or merge until cspace send _coordinator "resume"; agents already working go on.');
    expect(result.report.paused).toBe(false);

    expect(result.exitCode).toBe(0);
    expect(world.operator.answers).toEqual([
      { ok: true, text: "paused the run: no launch or merge until resume; agents already working go on" },
      { ok: true, text: "resumed the run" },
    ]);
    const at = (match: (event: CoordinatorEvent) => boolean): number => events.findIndex(match);
    expect(at(is("Paused"))).toBeGreaterThan(at(is("Launched", 10)));
    expect(at(is("Paused"))).toBeLessThan(at(is("PullRequestOpened", 10)));
    expect(at(is("Resumed"))).toBeLessThan(at(is("Merged", 10)));
    expect(at(is("Merged", 10))).toBeLessThan(at(is("Launched", 12)));
  });

  it("skip gives an issue up: its agent is interrupted, it and its dependents end blocked by the operator, exit 1", async () => {
    const { world, run, next } = await setUp({ 10: [], 11: [], 12: [10] }, 150);
    void next(is("Launched", 10)).then(() => world.operator.send("skip 10 the schema is not decided"));
    const result = await run();

    expect(result.exitCode).toBe(1);
    expect(result.report.rows.map((row) => [row.issue, row.status])).toEqual([[10, "blocked"], [11, "merged"], [12, "blocked"]]);
    expect(result.report.rows.find((row) => row.issue === 10)?.reason).toContain("the schema is not decided");
    expect(world.workers.interrupted).toEqual(["issue-10"]);
    expect(world.workers.launchesOf(12)).toHaveLength(0);
  });

  it("skip while the agent's launch is under way: the agent the launch then starts is interrupted, not left working on a skipped issue", async () => {
    const { world, run } = await setUp({ 10: [], 11: [] }, 50);
    const seen: string[] = [];
    const launch = world.workers.launch.bind(world.workers);
    const interrupt = world.workers.interrupt.bind(world.workers);
    let skipped = false;
    world.workers.launch = async (request) => {
      // The engine is still starting the agent when the operator's skip is recorded and answered.
      if (request.issue === 10 && !skipped) {
        skipped = true;
        seen.push(`skip answered: ${JSON.stringify(await world.operator.send("skip 10 the schema is not decided"))}`);
      }
      const outcome = await launch(request);
      seen.push(`started ${request.instance}`);
      return outcome;
    };
    world.workers.interrupt = (instance) => {
      seen.push(`interrupted ${instance}`);
      return interrupt(instance);
    };

    const result = await run();

    expect(result.report.rows.map((row) => [row.issue, row.status])).toEqual([[10, "blocked"], [11, "merged"]]);
    const of10 = seen.filter((line) => line.includes("issue-10"));
    expect(of10.at(-1)).toBe("interrupted issue-10");
    expect(of10).toContain("started issue-10");
  });

  it("skip while the launch prepares (before the agent starts): no agent is started for the skipped issue", async () => {
    const { world, run } = await setUp({ 10: [], 11: [] }, 50);
    const fetch = world.mover.fetch.bind(world.mover);
    let skipped = false;
    // The launch fetches its base into the store before it starts the agent: the skip lands then.
    world.mover.fetch = async (branches) => {
      if (!skipped && world.workers.launchesOf(10).length === 0 && world.forge.callsOf("createBranch").some((args) => args[0] === "issue-10")) {
        skipped = true;
        await world.operator.send("skip 10 the schema is not decided");
      }
      return fetch(branches);
    };

    const result = await run();

    expect(skipped).toBe(true);
    expect(result.report.rows.map((row) => [row.issue, row.status])).toEqual([[10, "blocked"], [11, "merged"]]);
    expect(world.workers.launchesOf(10)).toEqual([]);
    // The branch the launch had made for it is not left on the forge.
    expect(await world.forge.branchHead("issue-10")).toBeNull();
  });

  it("answers a command it does not know, or an issue not in the run, with what it can do, recording nothing", async () => {
    const { world, events, run, next } = await setUp({ 10: [] }, 50);
    const answers = next(is("Launched", 10)).then(async () => [await world.operator.send("dance"), await world.operator.send("pause 99"), await world.operator.send("skip")]);
    const result = await run();

    expect(result.exitCode).toBe(0);
    const [unknown, outside, bare] = await answers;
    expect(unknown).toEqual({ ok: false, error: expect.stringContaining('"dance" is not a coordinator command') as string });
    expect(unknown?.ok === false ? unknown.error : "").toContain("skip <N> [why]");
    expect(outside).toEqual({ ok: false, error: "#99 is not in this run (#10)" });
    expect(bare).toEqual({ ok: false, error: expect.stringContaining("skip needs an issue number") as string });
    expect(events.filter((event) => ["Paused", "Resumed", "Skipped"].includes(event.type))).toEqual([]);
  });
});

describe("reset N to a running coordinator, for an issue that started in this run", () => {
  const config = { verify: { all: "npm test" }, coordinator: { maxParallel: 2, maxAttempts: 1, stacking: false } };
  /** #11's first agent works until it is interrupted (by a reset): the run goes on while the test acts. */
  const busyEleven = { interruptStops: true, agentMsOf: (launch: { readonly issue: number; readonly attempt: number }) => (launch.issue === 11 && launch.attempt === 1 ? 600_000 : 20) };

  it("a working issue: its agent is interrupted, and it starts over from main as a first launch in a new agent, then merges", async () => {
    // #10's first agent would work for a minute: the reset's interrupt ends it.
    const { world, events, run, next } = await setUp({ 10: [], 11: [] }, 20, { config, world: { interruptStops: true, agentMsOf: (launch) => (launch.issue === 10 && launch.attempt === 1 ? 60_000 : 20) } });
    const answer = next((event) => event.type === "Launched" && event.issue === 10 && event.attempt === 1).then(() => world.operator.send("reset 10"));
    const result = await run();

    expect(await answer).toEqual({ ok: true, text: "#10 is reset: its work is discarded (attempt 1's agent is being stopped); it starts again from its base with the implementer prompt, and coordinator.maxAttempts more" });
    expect(result.exitCode).toBe(0);
    expect(world.workers.interrupted).toEqual(["issue-10"]);
    const [first, second] = world.workers.launchesOf(10);
    expect([first?.attempt, first?.fresh]).toEqual([1, false]);
    // The second is a first launch again: the implementer's prompt in a new agent (no session of the discarded work).
    expect([second?.attempt, second?.why, second?.fresh, second?.base]).toEqual([2, "initial", true, "main"]);
    const at = (match: (event: CoordinatorEvent) => boolean): number => events.findIndex(match);
    expect(at(is("ResetRequested", 10))).toBeLessThan(at((event) => event.type === "Reported" && event.issue === 10));
    expect(result.report.rows.find((row) => row.issue === 10)).toMatchObject({ status: "merged", attempts: 2, failedAttempts: 0 });
  });

  it("a failed issue: its pushed branch goes back to main on the forge, and the new work, on main's head, merges alone", async () => {
    // #11's first agent keeps the run going while the operator acts on #10 (maxAttempts 1: its verify failed once); once #10
    // has merged, #11 is reset too, and its second agent finishes at once.
    const { world, events, run, next } = await setUp({ 10: [], 11: [] }, 20, { config, scripts: { 10: { verify: ["fail"] } }, world: busyEleven });
    const answer = next(is("Failed", 10)).then(() => world.operator.send("reset 10"));
    void next(is("Merged", 10)).then(() => world.operator.send("reset 11"));
    const result = await run();

    expect((await answer).ok).toBe(true);
    expect(result.exitCode).toBe(0);
    const discarded = events.find((event) => event.type === "Pushed" && event.issue === 10);
    const relaunch = events.find((event) => event.type === "Launched" && event.issue === 10 && event.attempt === 2);
    if (discarded?.type !== "Pushed" || relaunch?.type !== "Launched") throw new Error("no push or relaunch of #10");
    // The relaunch started at main's head: the branch was moved back there, leased on the discarded head.
    expect(relaunch.headSha).toBe(relaunch.baseSha);
    expect(relaunch.start).toEqual({ kind: "fresh", commits: 1 });
    expect(world.forge.callsOf("moveBranch")).toContainEqual(["issue-10", relaunch.baseSha, { expectedSha: discarded.headSha, force: true }]);
    expect(world.workers.launchesOf(10)[1]).toMatchObject({ why: "initial", headSha: relaunch.baseSha, fresh: true });
    expect(result.report.rows.find((row) => row.issue === 10)).toMatchObject({ status: "merged", attempts: 2, failedAttempts: 1 });
  });

  it("killed right after the reset is recorded, before its interrupt: the resumed run stops the agent, then starts #10 over once", async () => {
    const { world, project } = await setUp({ 10: [], 11: [] }, 20, { world: { interruptStops: true, agentMsOf: (launch) => (launch.issue === 10 && launch.attempt === 1 ? 600_000 : 20) } });
    const store = world.store;
    // The reset is durable, then the process dies: nothing after it is appended, so the agent is never interrupted.
    const dying: EventStore = {
      startRun: (meta, at) => store.startRun(meta, at),
      append: async (runId, rows) => {
        const seqs = await store.append(runId, rows);
        if (rows.some((row) => row.type === "ResetRequested")) throw new Error("killed");
        return seqs;
      },
      read: (runId, from) => store.read(runId, from),
      readSince: (seq, options) => store.readSince(seq, options),
      latestRun: () => store.latestRun(),
      runs: () => store.runs(),
      close: () => Promise.resolve(),
    };
    let sent: Promise<unknown> = Promise.resolve();
    const onProgress = (progress: CoordinatorProgress): void => {
      if (progress.kind === "event" && progress.event.type === "Launched" && progress.event.issue === 10) sent = world.operator.send("reset 10").catch((error: unknown) => error);
    };
    const env = { CSPACE_RUN_DIR: `${project.dir}/run` };
    const first = coordinate({ cwd: project.dir, env, numbers: [10, 11], ports: { ...world.ports(), eventStore: () => dying }, onProgress, probeIntervalMs: 50, retryDelayMs: 10 });
    await expect(first).rejects.toThrow("killed");
    await sent;
    expect(world.workers.interrupted).toEqual([]);

    const result = await coordinate({ cwd: project.dir, env, ports: world.ports(), resume: true, probeIntervalMs: 50, retryDelayMs: 10 });
    expect(result.exitCode).toBe(0);
    expect(world.workers.interrupted).toEqual(["issue-10"]);
    expect(world.workers.launchesOf(10).map((launch) => [launch.attempt, launch.fresh])).toEqual([[1, false], [2, true]]);
    expect(result.report.rows.map((row) => [row.issue, row.status, row.attempts])).toEqual([[10, "merged", 2], [11, "merged", 1]]);
  });

  it("refuses a merged issue, saying there is nothing to reset", async () => {
    const { world, run, next } = await setUp({ 10: [], 11: [] }, 20, { world: busyEleven });
    const answer = next(is("Merged", 10)).then(async () => {
      const refused = await world.operator.send("reset 10");
      await world.operator.send("reset 11");
      return refused;
    });
    const result = await run();
    expect(await answer).toEqual({ ok: false, error: "#10 is merged: there is nothing to reset" });
    expect(result.exitCode).toBe(0);
  });
});

describe("a worker's message to _coordinator", () => {
  it("is recorded in the run's log, known by the instance it came from", async () => {
    const { world, events, run, next } = await setUp({ 10: [] }, 100);
    void next(is("Launched", 10)).then(() => world.workers.say("issue-10", "needs the schema from #9"));
    await run();

    expect(events.filter(is("WorkerMessaged"))).toEqual([{ type: "WorkerMessaged", at: expect.any(String) as string, issue: 10, text: "needs the schema from #9" }]);
  });
});
