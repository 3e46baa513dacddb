// Measures the coordinator's scheduling: the real coordinate service
// (services/coordinate) on a container-free world behind the same ports,
// agents of known durations (50–400 ms, real timers), the real SQLite event
// store in a data directory on the repository's disk. Prints, per random
// graph, makespan ÷ max(critical path, total work ÷ maxParallel); the
// coordinator's own time from a report to the next launch on the real local
// forge (bare repository, real squash merges, real git pushes); peak memory
// of a whole process running 50 issues; and one real-container run when it
// can. Run: `npm run bench:coordinate` (or `node bench/coordinate/run.ts`).
import { spawnSync } from "node:child_process";
import { mkdir, rm, rmdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { CoordinatorProgress } from "../../src/core/coordinator-runtime/progress.ts";
import { coordinate } from "../../src/services/coordinate/coordinate.ts";
import type { PortOverrides } from "../../src/services/project.ts";
import { FakeCoordinatorLock, FakeEventStore } from "../../test/fakes/event-store.ts";
import { median } from "../support/processes.ts";
import { chainGraph, lowerBound, policyMakespan, randomGraph, type BenchGraph } from "./graphs.ts";
import { AGENT_SECONDS, CONTAINER_CHAIN, containerRun, containerRunBlocked } from "./containers.ts";
import { landingComparison } from "./landing.ts";
import { localForgeWorld, memoryWorld, type BenchWorld, type Stamp } from "./worlds.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const work = path.join(root, "bench", ".work", "coordinate");
const MAX_PARALLEL = 4;
const SIZES = [10, 25, 50];
const SEEDS = Number(process.env.BENCH_GRAPHS ?? 3);
const CHAIN = 8;
const TARGET = { ratio: 1.15, overheadMs: 1000, peakMiB: 150 };
/** BENCH_STORE=memory: the in-memory event store instead of SQLite (what durability costs the schedule). */
const MEMORY_STORE = process.env.BENCH_STORE === "memory";
/** BENCH_ONLY=scheduling: the scheduling runs alone (comparing launch policies without the slower parts). */
const ONLY_SCHEDULING = process.env.BENCH_ONLY === "scheduling";
/** BENCH_ONLY=landing: the landing comparison alone (what verifying the tree that will land costs, issue 14). */
const ONLY_LANDING = process.env.BENCH_ONLY === "landing";

interface Measured {
  readonly exitCode: number;
  /** coordinate() called → returned. */
  readonly wall: number;
  /** The first launch started → the last merge recorded. */
  readonly makespan: number;
  /** coordinate() called → the first launch started (opening, loading, warming). */
  readonly startup: number;
  /** For each launch after the first report: the time since the latest report before it. */
  readonly reportToLaunch: readonly number[];
  /** Per issue, each durable event's first time (performance.now). */
  readonly events: ReadonlyMap<number, ReadonlyMap<string, number>>;
  readonly launches: readonly Stamp[];
  readonly reports: readonly Stamp[];
}

let runs = 0;

async function measure(graph: BenchGraph, options: { readonly stacking: boolean; readonly local?: boolean; readonly maxParallel?: number }): Promise<Measured> {
  const dir = path.join(work, `run-${String(++runs)}`);
  const config = {
    project: { name: "bench-coordinate" },
    forge: options.local === true ? { type: "local", remote: "../remote.git" } : { type: "local" },
    verify: { all: "true" },
    coordinator: { maxParallel: options.maxParallel ?? MAX_PARALLEL, maxAttempts: 2, stacking: options.stacking },
  };
  let world: BenchWorld;
  let projectDir: string;
  if (options.local === true) {
    const local = await localForgeWorld(dir, graph, config);
    world = local;
    projectDir = local.projectDir;
  } else {
    world = memoryWorld(graph);
    projectDir = path.join(dir, "project");
    await mkdir(projectDir, { recursive: true });
    await writeFile(path.join(projectDir, ".cspace.json"), `${JSON.stringify(config)}\n`);
  }
  const ports: PortOverrides = MEMORY_STORE ? { ...world.ports, eventStore: () => new FakeEventStore(), coordinatorLock: () => new FakeCoordinatorLock() } : world.ports;
  const events = new Map<number, Map<string, number>>();
  const onProgress = (progress: CoordinatorProgress): void => {
    const at = performance.now();
    const named =
      progress.kind === "event" && "issue" in progress.event
        ? { issue: progress.event.issue, type: progress.event.type }
        : progress.kind === "action"
          ? { issue: progress.action.issue, type: `${progress.action.type} action` }
          : null;
    if (named === null || named.issue === null) return;
    const { issue, type } = named;
    const seen = events.get(issue) ?? new Map<string, number>();
    if (!seen.has(type)) seen.set(type, at);
    events.set(issue, seen);
  };
  const started = performance.now();
  const result = await coordinate({
    cwd: projectDir,
    env: { ...process.env, CSPACE_DATA_DIR: path.join(dir, "data"), CSPACE_RUN_DIR: path.join(dir, "run") },
    numbers: [...graph.deps.keys()],
    ports,
    onProgress,
  });
  const wall = performance.now() - started;
  const { launches, reports } = world.pool;
  const firstLaunch = Math.min(...launches.map((l) => l.at));
  const lastMerge = Math.max(...[...events.values()].map((seen) => seen.get("Merged") ?? 0));
  const reportToLaunch = launches.flatMap((launch) => {
    const before = reports.filter((r) => r.at <= launch.at).map((r) => r.at);
    return before.length === 0 ? [] : [launch.at - Math.max(...before)];
  });
  await rm(dir, { recursive: true, force: true });
  return { exitCode: result.exitCode, wall, makespan: lastMerge - firstLaunch, startup: firstLaunch - started, reportToLaunch, events, launches, reports };
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

const ms = (value: number): string => `${value.toFixed(0)} ms`;
const verdict = (ok: boolean): string => (ok ? "met" : "MISSED");
const load = (): string => `load average ${os.loadavg().map((value) => value.toFixed(2)).join(", ")} (1, 5, 15 min) on ${String(os.availableParallelism())} CPUs`;

async function scheduling(stacking: boolean): Promise<void> {
  console.log(`\nscheduling, stacking ${stacking ? "on" : "off"}, maxParallel ${String(MAX_PARALLEL)}, ${MEMORY_STORE ? "in-memory" : "SQLite"} event store:`);
  console.log(`  graph        bound    policy   makespan  ratio  policy÷bound  report→launch p50/p99   wall${stacking ? "   policy÷bound stacking on launched / launched with a redo" : ""}`);
  const ratios: number[] = [];
  for (const n of SIZES) {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const graph = randomGraph(n, n * 100 + seed);
      const { bound, criticalPath, totalWork } = lowerBound(graph, MAX_PARALLEL);
      const policy = policyMakespan(graph, MAX_PARALLEL, stacking);
      const m = await measure(graph, { stacking });
      if (m.exitCode !== 0) throw new Error(`graph ${String(graph.seed)} did not merge everything`);
      const ratio = m.makespan / bound;
      ratios.push(ratio);
      console.log(
        `  n=${String(n).padEnd(3)} #${String(seed)}  ${ms(bound).padStart(8)} ${ms(policy).padStart(8)} ${ms(m.makespan).padStart(9)}  ${ratio.toFixed(2).padStart(5)}  ${(policy / bound).toFixed(2).padStart(12)}  ` +
          `${ms(percentile(m.reportToLaunch, 50)).padStart(8)} / ${ms(percentile(m.reportToLaunch, 99)).padEnd(8)}  ${ms(m.wall).padStart(6)}` +
          (stacking ? `   ${(policyMakespan(graph, MAX_PARALLEL, true, "launched") / bound).toFixed(2)} / ${(policyMakespan(graph, MAX_PARALLEL, true, "launched-redo") / bound).toFixed(2)}` : "") +
          `   (critical path ${ms(criticalPath)}, work÷${String(MAX_PARALLEL)} ${ms(totalWork / MAX_PARALLEL)})`,
      );
    }
  }
  const mid = median(ratios);
  console.log(`  median ratio ${mid.toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})  target ≤ ${TARGET.ratio.toFixed(2)}: ${verdict(mid <= TARGET.ratio)}`);
}

const STAGES = ["Reported", "Pushed", "Verified", "PullRequestOpened", "PullRequestChecked", "MergeReady", "Merged", "IssueClosed"] as const;

async function overheadOnLocalForge(): Promise<void> {
  const graph = chainGraph(CHAIN, 100);
  const m = await measure(graph, { stacking: false, local: true, maxParallel: 1 });
  if (m.exitCode !== 0) throw new Error("the local forge chain did not merge everything");
  // A chain without stacking: each launch waits for the previous issue's merge, so each follows exactly one report.
  const perMerge = m.reportToLaunch;
  console.log(`\noverhead per merge on the local forge (a chain of ${String(CHAIN)}, stacking off, real bare repository and git pushes, SQLite store; the fake verify takes 0 ms):`);
  console.log(`  report received → next launch started: p50 ${ms(percentile(perMerge, 50))}, p99 ${ms(percentile(perMerge, 99))} over ${String(perMerge.length)} merges  target p50 < ${ms(TARGET.overheadMs)}: ${verdict(percentile(perMerge, 50) < TARGET.overheadMs)}`);
  const offsets = new Map<string, number[]>();
  const add = (stage: string, value: number | undefined): void => {
    if (value !== undefined) offsets.set(stage, [...(offsets.get(stage) ?? []), value]);
  };
  for (let issue = 1; issue < CHAIN; issue++) {
    const seen = m.events.get(issue);
    const reported = m.reports.find((r) => r.issue === issue)?.at;
    if (seen === undefined || reported === undefined) continue;
    for (const stage of STAGES) add(stage, (seen.get(stage) ?? Number.NaN) - reported);
    add("Launch action started", (m.events.get(issue + 1)?.get("Launch action") ?? Number.NaN) - reported);
    add("pool.launch", (m.launches.find((l) => l.issue === issue + 1)?.at ?? Number.NaN) - reported);
  }
  const sorted = [...offsets].map(([stage, values]) => [stage, median(values)] as const).sort((a, b) => a[1] - b[1]);
  console.log(`  after the report (medians): ${sorted.map(([stage, value]) => `${stage} +${value.toFixed(0)}`).join(", ")} ms`);
}

/** The 50-issue case in a child process; its peak resident memory from getrusage at exit. */
function peakMemory(): void {
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--child-memory"], { encoding: "utf8", env: process.env, maxBuffer: 64 * 1024 * 1024 });
  if (child.status !== 0) throw new Error(`the memory run failed: ${child.stderr.slice(0, 2000)}`);
  const { maxRSS, makespan } = JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "{}") as { maxRSS: number; makespan: number };
  const mib = maxRSS / 1024;
  console.log(`\npeak memory, one whole process coordinating 50 issues (SQLite store, makespan ${ms(makespan)}): ${mib.toFixed(0)} MiB  target < ${String(TARGET.peakMiB)} MiB: ${verdict(mib < TARGET.peakMiB)}`);
}

async function childMemory(): Promise<void> {
  const m = await measure(randomGraph(50, 5001), { stacking: true });
  if (m.exitCode !== 0) throw new Error("the 50-issue run did not merge everything");
  console.log(JSON.stringify({ maxRSS: process.resourceUsage().maxRSS, makespan: m.makespan }));
}

async function realContainers(): Promise<void> {
  const label = `real containers (a chain of ${String(CONTAINER_CHAIN)}, stacking off, scripted agents sleeping ${String(AGENT_SECONDS)} s each, local forge, cspace coordinate --down)`;
  const blocked = containerRunBlocked(root);
  if (blocked !== null) {
    console.log(`\n${label}: skipped: ${blocked}`);
    return;
  }
  const dir = path.join(work, "containers");
  await mkdir(dir, { recursive: true });
  const f = await containerRun(root, dir);
  console.log(`\n${label}:`);
  if (f.exitCode !== 0) {
    console.log(`  FAILED: cspace coordinate exited ${String(f.exitCode)} after ${ms(f.wall)}:\n${f.tail}`);
    return;
  }
  console.log(`  wall ${ms(f.wall)} vs agents' sleeps ${ms(f.agentSum)} (ratio ${(f.wall / f.agentSum).toFixed(2)}); start-up to the first launch ${ms(f.startup)} (loading, warming every instance)`);
  console.log(`  report → next launch started: ${f.reportToLaunch.map(ms).join(", ")} (push, pull request, merge, restack, close, from the NDJSON times); last report → exit ${ms(f.ending)} (last merge, report, --down)`);
}

async function main(): Promise<void> {
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  try {
    console.log(`bench/coordinate: the coordinate service on a container-free world, agents 50–400 ms of wall time each`);
    console.log(`before: ${load()}`);
    if (!ONLY_LANDING) {
      await scheduling(false);
      await scheduling(true);
    }
    if (!ONLY_SCHEDULING) await landingComparison(work);
    if (!ONLY_SCHEDULING && !ONLY_LANDING) {
      await overheadOnLocalForge();
      peakMemory();
      await realContainers();
    }
    console.log(`\nafter: ${load()}`);
  } finally {
    await rm(work, { recursive: true, force: true });
    await rmdir(path.dirname(work)).catch(() => undefined);
  }
}

if (process.argv.includes("--child-memory")) {
  await mkdir(work, { recursive: true });
  await childMemory();
} else {
  await main();
}
