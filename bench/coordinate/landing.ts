// The landing comparison (issue 14, "Throughput: a train, not a queue"): what
// verifying the tree that will land costs. The real coordinate service on the
// landing world (landing-world.ts: agents and verify on timers, pairs of
// issues that pass alone and fail together), each graph run twice, paired:
// (a) no re-verification (`verifyLanding: false`, cspace before issue 14) and
// (b) one at a time (`verifyLanding: true`, today). (c) the train is not built
// yet: its place is marked below.
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { WorldSemantics } from "../../src/core/coordinator/world-contents.ts";
import { coordinate } from "../../src/services/coordinate/coordinate.ts";
import { FakeCoordinatorLock, FakeEventStore } from "../../test/fakes/event-store.ts";
import { median } from "../support/processes.ts";
import { seededRandom } from "../support/random.ts";
import { lowerBound, randomGraph, type BenchGraph } from "./graphs.ts";
import { landingWorld } from "./landing-world.ts";

const FEATURE_BRANCH = "feature/bench";
const MAX_PARALLEL = 4;
/** A retry after a failure on the combined tree brings the feature branch in; a third attempt covers a partner landing meanwhile. */
const MAX_ATTEMPTS = 3;
const SIZES = [10, 25, 50];
const CONFLICT_RATES = [0, 0.1, 0.3];
/** Each verify, in ms of the bench's time (agents take 50–400): BENCH_VERIFY_MS. */
const VERIFY_MS = Number(process.env.BENCH_VERIFY_MS ?? 60);
/** Graphs per size and rate: BENCH_LANDING_GRAPHS (default 2). */
const SEEDS = Number(process.env.BENCH_LANDING_GRAPHS ?? 2);
/** How far an issue's semantic partner may be (as dependencies: issues close in number run at the same time). */
const PAIR_WINDOW = 8;

type Side = "a" | "b";

interface LandingRun {
  readonly exitCode: number;
  /** coordinate() called → the last merge recorded (a base verify before the first launch counts). */
  readonly makespan: number;
  readonly merged: number;
  readonly failed: number;
  readonly red: number;
  readonly landed: number;
  readonly hostVerifies: number;
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
    coordinator: { maxParallel: MAX_PARALLEL, maxAttempts: MAX_ATTEMPTS, stacking: true, featureBranch: FEATURE_BRANCH },
  };
  await writeFile(path.join(projectDir, ".cspace.json"), `${JSON.stringify(config)}\n`);
  const world = landingWorld(graph, semantics, VERIFY_MS, FEATURE_BRANCH);
  const merges: number[] = [];
  let failed = 0;
  const started = performance.now();
  const result = await coordinate({
    cwd: projectDir,
    env: { ...process.env, CSPACE_DATA_DIR: path.join(dir, "data"), CSPACE_RUN_DIR: path.join(dir, "run") },
    numbers: [...graph.deps.keys()],
    verifyLanding: side === "b",
    ports: { ...world.ports, eventStore: () => new FakeEventStore(), coordinatorLock: () => new FakeCoordinatorLock() },
    onProgress: (progress) => {
      if (progress.kind !== "event") return;
      if (progress.event.type === "Merged") merges.push(performance.now());
      if (progress.event.type === "Failed") failed++;
    },
  });
  await rm(dir, { recursive: true, force: true });
  const { red, landed } = world.redLandings();
  return { exitCode: result.exitCode, makespan: Math.max(...merges) - started, merged: merges.length, failed, red, landed, hostVerifies: world.hostVerifies() };
}

/** Merges per hour, reading each ms of the bench as a second (agents 50–400 s, verify VERIFY_MS s). */
const perHour = (run: LandingRun): number => run.merged / (run.makespan / 3600);
const fixed = (value: number, digits = 2): string => value.toFixed(digits);

/** (a) and (b) on the same graphs, in alternating order (so load that drifts during a run weighs on both). */
export async function landingComparison(work: string): Promise<void> {
  console.log(
    `\nlanding: (a) no re-verification (verifyLanding false, before issue 14) vs (b) one at a time (today); maxParallel ${String(MAX_PARALLEL)}, ` +
      `maxAttempts ${String(MAX_ATTEMPTS)}, stacking on, verify ${String(VERIFY_MS)} ms, agents 50–400 ms, in-memory store; merges/h reads 1 ms as 1 s; ${String(SEEDS)} graphs per row`,
  );
  console.log("  n   conflict pairs │ (a) makespan÷bound merges/h red landed failed │ (b) makespan÷bound merges/h extra verifies failed │ (b)/(a) makespan merges/h │ (c) train");
  for (const n of SIZES) {
    for (const rate of CONFLICT_RATES) {
      const rows: { a: LandingRun; b: LandingRun; bound: number; pairs: number }[] = [];
      for (let seed = 1; seed <= SEEDS; seed++) {
        const graph = randomGraph(n, n * 100 + seed);
        const timed: BenchGraph = { ...graph, durations: new Map([...graph.durations].map(([issue, ms]) => [issue, ms + VERIFY_MS])) };
        const { bound } = lowerBound(timed, MAX_PARALLEL);
        const incompatible = semanticPairs(graph, rate, n * 1000 + seed + Math.round(rate * 100));
        const semantics: WorldSemantics = { incompatible };
        const order: readonly Side[] = seed % 2 === 1 ? ["a", "b"] : ["b", "a"];
        const measured = new Map<Side, LandingRun>();
        for (const side of order) {
          const run = await measureLanding(work, graph, semantics, side);
          measured.set(side, run);
        }
        const a = measured.get("a");
        const b = measured.get("b");
        if (a === undefined || b === undefined) throw new Error("landing bench: a side did not run");
        if (b.red > 0) throw new Error(`landing (b), graph ${String(graph.seed)}: ${String(b.red)} landed trees fail verify: the rule did not hold`);
        rows.push({ a, b, bound, pairs: incompatible.length });
      }
      const med = (pick: (row: (typeof rows)[number]) => number): number => median(rows.map(pick));
      console.log(
        `  ${String(n).padEnd(3)} ${`${String(rate * 100)}%`.padStart(4)} ${fixed(med((r) => r.pairs), 0).padStart(5)} │ ` +
          `${fixed(med((r) => r.a.makespan / r.bound)).padStart(18)} ${fixed(med((r) => perHour(r.a)), 0).padStart(8)} ${`${fixed(med((r) => r.a.red), 0)}/${fixed(med((r) => r.a.landed), 0)}`.padStart(10)} ${fixed(med((r) => r.a.failed), 0).padStart(6)} │ ` +
          `${fixed(med((r) => r.b.makespan / r.bound)).padStart(18)} ${fixed(med((r) => perHour(r.b)), 0).padStart(8)} ${fixed(med((r) => r.b.hostVerifies), 0).padStart(14)} ${fixed(med((r) => r.b.failed), 0).padStart(6)} │ ` +
          `${fixed(med((r) => r.b.makespan / r.a.makespan)).padStart(16)} ${fixed(med((r) => perHour(r.b) / perHour(r.a))).padStart(8)} │ ` +
          // (c) THE TRAIN goes here once it is built (issue 14): a third side, paired with (a) and (b) on the same graphs.
          "not built",
      );
    }
  }
  console.log("  (medians over the graphs; red landed: commits on the feature branch whose tree fails verify; extra verifies: of the landing tree or the feature branch alone; failed: issues that ended failed)");
}
