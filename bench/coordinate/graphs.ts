// Synthetic issue graphs with known agent durations, their lower bound, and
// the schedule the coordinator's launch policy would give with no overhead
// at all (so a measured makespan splits into the policy's cost and the
// runtime's).
import { seededRandom } from "../support/random.ts";

export interface BenchGraph {
  readonly seed: number;
  /** Issue number → its dependencies (all lower numbers: a DAG). */
  readonly deps: ReadonlyMap<number, readonly number[]>;
  /** Issue number → how long its agent works, ms. */
  readonly durations: ReadonlyMap<number, number>;
}

export const MIN_AGENT_MS = 50;
export const MAX_AGENT_MS = 400;

/**
 * Issues 1..n; each depends on 0–3 of the 8 issues before it (30% none, 45%
 * one, 20% two, 5% three), so there are chains, fan-in and independent
 * issues; each agent works 50–400 ms, drawn uniformly.
 */
export function randomGraph(n: number, seed: number): BenchGraph {
  const random = seededRandom(seed);
  const deps = new Map<number, readonly number[]>();
  const durations = new Map<number, number>();
  for (let issue = 1; issue <= n; issue++) {
    const draw = random();
    const wanted = draw < 0.3 ? 0 : draw < 0.75 ? 1 : draw < 0.95 ? 2 : 3;
    const window = Array.from({ length: Math.min(8, issue - 1) }, (_, i) => issue - 1 - i);
    const chosen = new Set<number>();
    while (chosen.size < Math.min(wanted, window.length)) chosen.add(window[Math.floor(random() * window.length)] ?? 1);
    deps.set(issue, [...chosen].sort((a, b) => a - b));
    durations.set(issue, Math.round(MIN_AGENT_MS + random() * (MAX_AGENT_MS - MIN_AGENT_MS)));
  }
  return { seed, deps, durations };
}

/** A chain 1 ← 2 ← … ← n, every agent `ms` long. */
export function chainGraph(n: number, ms: number): BenchGraph {
  const deps = new Map<number, readonly number[]>();
  const durations = new Map<number, number>();
  for (let issue = 1; issue <= n; issue++) {
    deps.set(issue, issue === 1 ? [] : [issue - 1]);
    durations.set(issue, ms);
  }
  return { seed: 0, deps, durations };
}

export interface Bound {
  /** The longest dependency path, summing agent durations (a dependent starts after its dependencies end). */
  readonly criticalPath: number;
  readonly totalWork: number;
  /** max(critical path, total work ÷ maxParallel). */
  readonly bound: number;
}

export function lowerBound(graph: BenchGraph, maxParallel: number): Bound {
  const finish = new Map<number, number>();
  for (const [issue, deps] of graph.deps) {
    const start = Math.max(0, ...deps.map((d) => finish.get(d) ?? 0));
    finish.set(issue, start + (graph.durations.get(issue) ?? 0));
  }
  const criticalPath = Math.max(0, ...finish.values());
  const totalWork = [...graph.durations.values()].reduce((sum, ms) => sum + ms, 0);
  return { criticalPath, totalWork, bound: Math.max(criticalPath, totalWork / maxParallel) };
}

/**
 * When a stacked issue may start: `verified`, what the coordinator does (once
 * its one unmerged dependency's agent ended: its work is pushed and verified,
 * at zero overhead here); `launched`, the rule before issue 14 (as soon as the
 * dependency started, on its still empty branch); `launched-redo`, the same
 * with the price the README walkthrough paid for it: a dependent started
 * before its dependency's work existed runs its agent a second time once
 * that work is there (its first verify judged it without the code it builds on).
 */
export type StackOn = "verified" | "launched" | "launched-redo";

/**
 * The makespan of the coordinator's launch policy with zero overhead: at
 * most `maxParallel` agents, lowest number first among those the base-branch
 * rule allows; an issue merges the moment its agent ended and its
 * dependencies merged. Without stacking an issue launches once every
 * dependency merged; with stacking also when exactly one is unmerged and
 * that one may be stacked on (`stackOn`).
 */
export function policyMakespan(graph: BenchGraph, maxParallel: number, stacking: boolean, stackOn: StackOn = "verified"): number {
  const launched = new Map<number, number>();
  const ended = new Map<number, number>();
  const merged = new Set<number>();
  /** Dependents started before their dependency's work existed: they run again once it ends. */
  const early = new Map<number, number>();
  let now = 0;
  const issues = [...graph.deps.keys()].sort((a, b) => a - b);
  const duration = (issue: number): number => graph.durations.get(issue) ?? 0;
  while (merged.size < issues.length) {
    let progress = true;
    while (progress) {
      progress = false;
      for (const issue of issues) {
        const deps = graph.deps.get(issue) ?? [];
        if (!merged.has(issue) && !early.has(issue) && (ended.get(issue) ?? Infinity) <= now && deps.every((d) => merged.has(d))) {
          merged.add(issue);
          progress = true;
        }
      }
    }
    const running = issues.filter((issue) => launched.has(issue) && (ended.get(issue) ?? 0) > now).length;
    let slots = maxParallel - running;
    // A redo takes its slot as soon as its agent's first run ended (the retry follows at once, in the same worker).
    for (const [issue, parent] of early) {
      const parentEnd = ended.get(parent) ?? Infinity;
      if ((ended.get(issue) ?? Infinity) <= now && parentEnd <= now && slots > 0) {
        ended.set(issue, now + duration(issue));
        early.delete(issue);
        slots--;
      }
    }
    for (const issue of issues) {
      if (slots === 0) break;
      if (launched.has(issue)) continue;
      const unmerged = (graph.deps.get(issue) ?? []).filter((d) => !merged.has(d));
      const parent = unmerged[0] ?? 0;
      const parentDone = (ended.get(parent) ?? Infinity) <= now;
      const stackable = stacking && unmerged.length === 1 && launched.has(parent) && (stackOn !== "verified" || parentDone);
      if (unmerged.length === 0 || stackable) {
        launched.set(issue, now);
        ended.set(issue, now + duration(issue));
        if (stackable && stackOn === "launched-redo" && !parentDone) early.set(issue, parent);
        slots--;
      }
    }
    const pending = [...ended.values()].filter((t) => t > now);
    const waits = [...early.values()].map((parent) => ended.get(parent) ?? Infinity).filter((t) => t > now);
    const next = Math.min(...pending, ...waits);
    if (merged.size < issues.length) {
      if (!Number.isFinite(next)) throw new Error(`graph ${String(graph.seed)}: the policy is stuck at ${String(now)} ms`);
      now = next;
    }
  }
  return Math.max(...ended.values());
}
