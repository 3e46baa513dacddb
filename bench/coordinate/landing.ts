// The landing comparison (issue 14, "Throughput: a train, not a queue"): what
// verifying the tree that will land costs. The real coordinate service on the
// landing world (landing-world.ts: agents and verify on timers, pairs of
// issues that pass alone and fail together), each graph run twice, paired:
// (a) no re-verification (`verifyLanding: false`, cspace before issue 14),
// (b) one at a time (`coordinator.train: 1`) and (c) the train
// (`coordinator.train: 4`, the default; and 8 on the 50-issue graphs).
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { WorldSemantics } from "../../src/core/coordinator/world-contents.ts";
import { coordinate } from "../../src/services/coordinate/coordinate.ts";
import { FakeCoordinatorLock, FakeEventStore } from "../../test/fakes/event-store.ts";
import { median } from "../support/processes.ts";
import { seededRandom } from "../support/random.ts";
import { lowerBound, randomGraph, type BenchGraph } from "./graphs.ts";
import { LandingTimeline, type LandingTimes } from "./landing-timeline.ts";
import { landingWorld } from "./landing-world.ts";

const FEATURE_BRANCH = "feature/bench";
const MAX_PARALLEL = 4;
/** A retry after a failure on the combined tree brings the feature branch in; a third attempt covers a partner landing meanwhile. */
const MAX_ATTEMPTS = 3;
const SIZES = [10, 25, 50];
const CONFLICT_RATES = [0, 0.1, 0.3];
/** Each verify, in ms of the bench's time (agents take 50–400): BENCH_VERIFY_MS. */
const VERIFY_MS = Number(process.env.BENCH_VERIFY_MS ?? 60);
/**
 * A verify of a tree the host made (a landing tree, the tip alone), in ms: BENCH_LANDING_VERIFY_MS, by default
 * VERIFY_MS. A diagnosis, not a real setting: 0 shows what the verifying sides cost besides the landing verifies' time.
 */
const LANDING_VERIFY_MS = Number(process.env.BENCH_LANDING_VERIFY_MS ?? VERIFY_MS);
/** Graphs per size and rate: BENCH_LANDING_GRAPHS (default 2). */
const SEEDS = Number(process.env.BENCH_LANDING_GRAPHS ?? 2);
/** How far an issue's semantic partner may be (as dependencies: issues close in number run at the same time). */
const PAIR_WINDOW = 8;

/** (a) no re-verification, (b) one at a time, (c) the train of 4 (the default), (c8) a train of 8 (on the largest graphs). */
type Side = "a" | "b" | "c" | "c8";

const TRAIN: Readonly<Record<Side, number | null>> = { a: null, b: 1, c: 4, c8: 8 };
/** A train of 8 only where 8 candidates can be ready at once. */
const sidesFor = (n: number): readonly Side[] => (n >= 50 ? ["a", "b", "c", "c8"] : ["a", "b", "c"]);

interface LandingRun {
  readonly exitCode: number;
  /** coordinate() called → the last merge recorded (a base verify before the first launch counts). */
  readonly makespan: number;
  readonly merged: number;
  readonly failed: number;
  readonly red: number;
  readonly landed: number;
  readonly hostVerifies: number;
  /** Host verifies of a tree that had already passed (the branch's own verify after a restack ran on the same tree). */
  readonly repeatVerifies: number;
  readonly times: LandingTimes;
}

/**
 * Pairs of issues that pass alone and fail together: among the pairs that can
 * be in flight at once (within PAIR_WINDOW of each other, neither depending on
 * the other, even indirectly), each with probability `rate`.
 */
export function semanticPairs(graph: BenchGraph, rate: number, seed: number): readonly (readonly [number, number])[] {
  const random = seededRandom(seed);
  const ancestors = new Map<number, Set<number>>();
  for (const [issue, deps] of graph.deps) ancestors.set(issue, new Set(deps.flatMap((d) => [d, ...(ancestors.get(d) ?? [])])));
  const pairs: [number, number][] = [];
  for (const b of graph.deps.keys()) {
    for (let a = Math.max(1, b - PAIR_WINDOW); a < b; a++) {
      if (ancestors.get(b)?.has(a) === true) continue;
      if (random() < rate) pairs.push([a, b]);
    }
  }
  return pairs;
}

let runs = 0;

async function measureLanding(work: string, graph: BenchGraph, semantics: WorldSemantics, side: Side): Promise<LandingRun> {
  const dir = path.join(work, `landing-${String(++runs)}`);
  const projectDir = path.join(dir, "project");
  await mkdir(projectDir, { recursive: true });
  const config = {
    project: { name: "bench-landing" },
    forge: { type: "local" },
    verify: { all: "true" },
    coordinator: { maxParallel: MAX_PARALLEL, maxAttempts: MAX_ATTEMPTS, stacking: true, featureBranch: FEATURE_BRANCH, train: TRAIN[side] ?? 1 },
  };
  await writeFile(path.join(projectDir, ".cspace.json"), `${JSON.stringify(config)}\n`);
  const world = landingWorld(graph, semantics, VERIFY_MS, FEATURE_BRANCH, LANDING_VERIFY_MS);
  const merges: number[] = [];
  let failed = 0;
  const timeline = new LandingTimeline();
  const started = performance.now();
  const result = await coordinate({
    cwd: projectDir,
    env: { ...process.env, CSPACE_DATA_DIR: path.join(dir, "data"), CSPACE_RUN_DIR: path.join(dir, "run") },
    numbers: [...graph.deps.keys()],
    verifyLanding: TRAIN[side] !== null,
    ports: { ...world.ports, eventStore: () => new FakeEventStore(), coordinatorLock: () => new FakeCoordinatorLock() },
    onProgress: (progress) => {
      timeline.observe(progress);
      if (progress.kind !== "event") return;
      if (progress.event.type === "Merged") merges.push(performance.now());
      if (progress.event.type === "Failed") failed++;
    },
  });
  await rm(dir, { recursive: true, force: true });
  const { red, landed } = world.redLandings();
  return { exitCode: result.exitCode, makespan: Math.max(...merges) - started, merged: merges.length, failed, red, landed, hostVerifies: world.hostVerifies(), repeatVerifies: world.repeatVerifies(), times: timeline.times() };
}

/** Issues on the graph's longest dependency chain. */
function chainDepth(graph: BenchGraph): number {
  const depth = new Map<number, number>();
  for (const [issue, deps] of graph.deps) depth.set(issue, 1 + Math.max(0, ...deps.map((d) => depth.get(d) ?? 0)));
  return Math.max(0, ...depth.values());
}

/** Merges per hour, reading each ms of the bench as a second (agents 50–400 s, verify VERIFY_MS s). */
const perHour = (run: LandingRun): number => run.merged / (run.makespan / 3600);
const fixed = (value: number, digits = 2): string => value.toFixed(digits);

interface Row {
  readonly runs: ReadonlyMap<Side, LandingRun>;
  readonly bound: number;
  /** Issues on the longest dependency chain. */
  readonly depth: number;
  /** The bound with each issue's duration plus two verifies (its own, then its landing tree's): what a verifying side pays at least per issue. */
  readonly bound2: number;
  readonly pairs: number;
}

const runOf = (row: Row, side: Side): LandingRun => {
  const run = row.runs.get(side);
  if (run === undefined) throw new Error(`landing bench: side (${side}) did not run`);
  return run;
};

/** The figures of one side, medians over the row's graphs. */
function sideColumns(rows: readonly Row[], side: Side): string {
  const med = (pick: (run: LandingRun, row: Row) => number): number => median(rows.map((row) => pick(runOf(row, side), row)));
  const ratio = fixed(med((run, row) => run.makespan / row.bound)).padStart(6);
  const hour = fixed(med((run) => perHour(run)), 0).padStart(4);
  const failed = fixed(med((run) => run.failed), 0).padStart(3);
  if (side === "a") return `${ratio} ${hour} ${`${fixed(med((run) => run.red), 0)}/${fixed(med((run) => run.landed), 0)}`.padStart(5)} ${failed}`;
  return `${ratio} ${hour} ${fixed(med((run) => run.hostVerifies), 0).padStart(4)} ${failed} ${fixed(med((run) => run.times.staleLandings), 0).padStart(3)}`;
}

/** Side ÷ (a), per graph, medians: makespan and merges per hour. */
function versusA(rows: readonly Row[], side: Side): string {
  const makespan = median(rows.map((row) => runOf(row, side).makespan / runOf(row, "a").makespan));
  const hour = median(rows.map((row) => perHour(runOf(row, side)) / perHour(runOf(row, "a"))));
  return `${fixed(makespan).padStart(5)} ${fixed(hour).padStart(5)}`;
}

/** Where a verifying side's time goes, medians over the row's graphs. */
function timeColumns(rows: readonly Row[], side: Side): string {
  const med = (pick: (run: LandingRun) => number): number => median(rows.map((row) => pick(runOf(row, side))));
  const first = rows[0]?.runs.get(side)?.times.gapActions ?? "";
  const bound2 = median(rows.map((row) => runOf(row, side).makespan / row.bound2));
  const extra = median(rows.map((row) => (runOf(row, side).makespan - runOf(row, "a").makespan) / VERIFY_MS));
  // (a) verifies no landing: its gaps run from the merge before, so they are the time between merges, not a merge's cost.
  const gaps = side === "a" ? `${"–".padStart(6)} ${"–".padStart(6)}` : `${fixed(med((run) => run.times.mergeGap), 0).padStart(6)} ${fixed(med((run) => run.times.mergeGapTotal / run.makespan)).padStart(6)}`;
  return (
    `${side.padEnd(3)} ${fixed(median(rows.map((row) => row.depth)), 0).padStart(5)} ${side === "a" ? "–".padStart(5) : fixed(extra, 1).padStart(5)} ${fixed(bound2).padStart(5)} ${fixed(med((run) => run.times.tail / run.makespan)).padStart(5)} ${fixed(med((run) => run.times.peakVerifying), 0).padStart(5)} ` +
    `${fixed(med((run) => run.times.meanAhead), 1).padStart(5)} ${fixed(med((run) => run.times.pushToMerged), 0).padStart(6)} ${fixed(med((run) => run.times.queued), 0).padStart(6)} ${fixed(med((run) => run.times.waitAhead), 0).padStart(6)} ${gaps} ` +
    `${fixed(med((run) => run.times.mismatchedLandings), 0).padStart(4)} ${fixed(med((run) => run.repeatVerifies), 0).padStart(5)}  ${first}`
  );
}

/** (a), (b) and (c) on the same graphs, in an order that turns with the seed (so load that drifts during a run weighs on all). */
export async function landingComparison(work: string): Promise<void> {
  const began = performance.now();
  console.log(
    `\nlanding: (a) no re-verification (verifyLanding false, before issue 14), (b) one at a time (train 1), (c) the train (train 4; c8: 8, n = 50 only); maxParallel ${String(MAX_PARALLEL)}, ` +
      `maxAttempts ${String(MAX_ATTEMPTS)}, stacking on, verify ${String(VERIFY_MS)} ms${LANDING_VERIFY_MS === VERIFY_MS ? "" : ` (of a landing tree or the tip alone: ${String(LANDING_VERIFY_MS)} ms)`}, agents 50–400 ms, in-memory store; merges/h reads 1 ms as 1 s; ${String(SEEDS)} graphs per row`,
  );
  console.log("                     │ (a)                  │ (b) one at a time           │ (c) train of 4              │ (b)/(a)     │ (c)/(a)     │ (c8)/(a)");
  console.log("  n   conflict pairs │ ÷bnd  m/h red/ld fail │ ÷bnd  m/h  ver fail stale │ ÷bnd  m/h  ver fail stale │  mksp   m/h │  mksp   m/h │  mksp   m/h");
  const timeLines: string[] = [];
  for (const n of SIZES) {
    for (const rate of CONFLICT_RATES) {
      const rows: Row[] = [];
      const sides = sidesFor(n);
      for (let seed = 1; seed <= SEEDS; seed++) {
        const graph = randomGraph(n, n * 100 + seed);
        const timed: BenchGraph = { ...graph, durations: new Map([...graph.durations].map(([issue, ms]) => [issue, ms + VERIFY_MS])) };
        const { bound } = lowerBound(timed, MAX_PARALLEL);
        const timed2: BenchGraph = { ...graph, durations: new Map([...graph.durations].map(([issue, ms]) => [issue, ms + 2 * VERIFY_MS])) };
        const bound2 = lowerBound(timed2, MAX_PARALLEL).bound;
        const incompatible = semanticPairs(graph, rate, n * 1000 + seed + Math.round(rate * 100));
        const semantics: WorldSemantics = { incompatible };
        const order = [...sides.slice(seed % sides.length), ...sides.slice(0, seed % sides.length)];
        const runs = new Map<Side, LandingRun>();
        for (const side of order) {
          const run = await measureLanding(work, graph, semantics, side);
          if (side !== "a" && run.red > 0) throw new Error(`landing (${side}), graph ${String(graph.seed)}: ${String(run.red)} landed trees fail verify: the rule did not hold`);
          runs.set(side, run);
        }
        rows.push({ runs, bound, bound2, depth: chainDepth(graph), pairs: incompatible.length });
      }
      const head = `  ${String(n).padEnd(3)} ${`${String(rate * 100)}%`.padStart(4)} ${fixed(median(rows.map((r) => r.pairs)), 0).padStart(5)}`;
      const c8 = sides.includes("c8") ? versusA(rows, "c8") : "    –     –";
      console.log(`${head} │ ${sideColumns(rows, "a")} │ ${sideColumns(rows, "b")} │ ${sideColumns(rows, "c")} │ ${versusA(rows, "b")} │ ${versusA(rows, "c")} │ ${c8}`);
      for (const side of sides) timeLines.push(`${head} ${timeColumns(rows, side)}`);
    }
  }
  console.log(
    "  (medians over the graphs; ÷bnd: makespan ÷ bound; m/h: merges per hour; red/ld: commits on the feature branch whose tree fails verify / all it got; " +
      "ver: verifies of a tree the host made (landing trees, the tip alone); fail: issues that ended failed; stale: LandingStale, the tree to merge was not the one verified)",
  );
  console.log("\nwhere the time goes (medians over the graphs; times in ms)");
  console.log("  n   conflict pairs side depth Δ÷ver ÷bnd2 tail÷ peak  ahead p→mrg queued   wait    gap  gaps÷  mis again  actions in a merge's gap (most often)");
  for (const line of timeLines) console.log(line);
  console.log(
    "  (depth: issues on the longest dependency chain; Δ÷ver: (makespan − (a)'s makespan) ÷ one verify's time; ÷bnd2: makespan ÷ the bound with two verifies per issue; tail÷: last agent push → last merge, ÷ makespan; peak: landing verifies at once; ahead: cars ahead per landing verify; p→mrg: an issue's last push → its merge; queued: that push → its landing verify starting; wait: its verification passed → the merge before it; " +
      "gap: that (or its verification, if later) → its own Merged; gaps÷: all gaps ÷ makespan; mis: LandingMismatched, a squash whose tree is not the verified one; again: landing verifies of a tree that had already passed a verify, e.g. a restacked branch's own)",
  );
  console.log(`  the landing comparison took ${fixed((performance.now() - began) / 1000, 0)} s`);
}
