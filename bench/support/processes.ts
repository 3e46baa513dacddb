// Whole-process timing shared by the benchmarks: a command's wall time from
// spawn to exit (Node start-up included), and pairs of commands run in turn
// so that a machine whose speed drifts during the run moves both sides alike.
import { spawnSync, type SpawnSyncOptions } from "node:child_process";

export interface Run {
  readonly command: string;
  readonly args: readonly string[];
  readonly options?: SpawnSyncOptions;
  /** Throws (naming what it printed) unless the process succeeded as expected. */
  readonly check?: (stdout: string) => void;
}

/** Wall milliseconds of one run; an Error naming the command and its output when it fails. */
export function timeRun(run: Run): number {
  const started = performance.now();
  const child = spawnSync(run.command, [...run.args], { encoding: "utf8", maxBuffer: 512 * 1024 * 1024, ...run.options });
  const ms = performance.now() - started;
  const stdout = String(child.stdout);
  if (child.status !== 0) {
    throw new Error(`${[run.command, ...run.args].join(" ")} exited ${String(child.status ?? child.signal)}:\n${String(child.stderr)}${stdout}`.slice(0, 2000));
  }
  run.check?.(stdout);
  return ms;
}

export interface PairFigures {
  /** Median wall ms of each side. */
  readonly a: number;
  readonly b: number;
  /** Median of the pairwise ratios a/b, and their spread. */
  readonly ratio: number;
  readonly ratioMin: number;
  readonly ratioMax: number;
  readonly rounds: number;
}

/**
 * Runs A and B in turn for `rounds` pairs after one unmeasured run of each
 * (caches, the compile cache), flipping which goes first every round, and
 * takes the ratio pair by pair.
 */
export function comparePair(a: Run, b: Run, rounds: number): PairFigures {
  timeRun(a);
  timeRun(b);
  const as: number[] = [];
  const bs: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const [first, second] = round % 2 === 0 ? [a, b] : [b, a];
    const x = timeRun(first);
    const y = timeRun(second);
    const [ta, tb] = round % 2 === 0 ? [x, y] : [y, x];
    as.push(ta);
    bs.push(tb);
    ratios.push(ta / tb);
  }
  return { a: median(as), b: median(bs), ratio: median(ratios), ratioMin: Math.min(...ratios), ratioMax: Math.max(...ratios), rounds };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
