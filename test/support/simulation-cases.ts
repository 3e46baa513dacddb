import type { IssueScript } from "../../src/core/coordinator/simulation.ts";

/** A dependency graph drawn by fast-check: issue numbers, and for each the indices of earlier issues it depends on. */
export interface DrawnGraph {
  /** Each issue's dependencies, ascending. */
  readonly deps: Map<number, number[]>;
  /** The same, as `SimulationPlan.issues` takes it. */
  readonly issues: Record<number, number[]>;
  /** Each issue's script, by number. */
  readonly scripts: Record<number, IssueScript>;
}

/**
 * The graph of a property test's case: an issue depends only on issues drawn
 * before it (so the graph has no cycle), each dependency once.
 */
export function drawnGraph(numbers: readonly number[], edges: readonly (readonly number[])[], scripts: readonly IssueScript[]): DrawnGraph {
  const deps = new Map<number, number[]>();
  const issues: Record<number, number[]> = {};
  const byNumber: Record<number, IssueScript> = {};
  numbers.forEach((n, i) => {
    const own = [...new Set((edges[i] ?? []).filter((j) => j < i).map((j) => numbers[j] ?? 0))].sort((a, b) => a - b);
    deps.set(n, own);
    issues[n] = own;
    byNumber[n] = scripts[i] ?? {};
  });
  return { deps, issues, scripts: byNumber };
}

/** A small seeded generator (mulberry32): the order a simulation's outcomes arrive in, the same for the same seed. */
export function seededChoice(seed: number): (count: number) => number {
  let a = seed >>> 0;
  return (count) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * count);
  };
}
