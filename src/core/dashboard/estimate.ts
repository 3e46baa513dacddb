import { isSettled } from "../coordinator/queries.ts";
import type { CoordinatorState, IssueRecord } from "../coordinator/state.ts";

/** The time left along the critical path, and how it was computed (DashboardHeader.remainingMs and .estimate). */
export interface Estimate {
  readonly remainingMs: number | null;
  readonly estimate: string;
}

/**
 * The time the run still needs, along its critical path: the rule is
 * simple, so a person can check it against the view.
 *
 * - An issue is expected to take the median wall time, from its first
 *   launch to its merge, of the issues this run merged so far (no estimate
 *   until one has merged: nothing else in the log says how long this
 *   project's issues take).
 * - An unfinished issue has that time left, less the time since its first
 *   launch (never below zero); one not started yet has all of it.
 * - The time left is the longest path through the dependency graph of the
 *   unfinished issues, summing their times left. Merged, failed and blocked
 *   issues add nothing.
 *
 * Time the run spends paused, parked or waiting for a slot is not
 * forecast: the estimate is what the dependencies alone impose.
 * One pass over the run's merge order, which lists dependencies first: no
 * recursion, however deep the graph.
 */
export function estimateRemaining(state: CoordinatorState, now: number): Estimate {
  const order = state.run?.order ?? [];
  const records = order.flatMap((n) => state.issues[n] ?? []);
  const open = records.filter((record) => !isSettled(record));
  if (state.finished !== null || (records.length > 0 && open.length === 0)) return { remainingMs: 0, estimate: "nothing left: every issue is merged, failed or blocked" };
  const times = records.flatMap((record) => mergeTime(record) ?? []);
  const expected = median(times);
  if (expected === null) {
    return { remainingMs: null, estimate: "no estimate until an issue merges: each issue left is expected to take the median time, first launch to merge, of those merged" };
  }
  const finish = new Map<number, { readonly ms: number; readonly after: number | null }>();
  const openSet = new Set(open.map((record) => record.number));
  for (const record of open) {
    const started = record.attempts[0]?.startedAt;
    const ran = started === undefined ? 0 : Math.max(0, now - Date.parse(started));
    const left = Math.max(0, expected - (Number.isNaN(ran) ? 0 : ran));
    let after: number | null = null;
    let wait = 0;
    for (const d of record.dependencies) {
      const before = openSet.has(d) ? finish.get(d) : undefined;
      if (before !== undefined && before.ms > wait) {
        wait = before.ms;
        after = d;
      }
    }
    finish.set(record.number, { ms: wait + left, after });
  }
  let last: number | null = null;
  let remainingMs = 0;
  for (const [n, { ms }] of finish) {
    if (last === null || ms > remainingMs) {
      last = n;
      remainingMs = ms;
    }
  }
  const path: number[] = [];
  for (let n = last; n !== null; n = finish.get(n)?.after ?? null) path.unshift(n);
  return {
    remainingMs,
    estimate:
      `about ${duration(remainingMs)} along the critical path ${pathText(path)}: each unfinished issue is expected to take ${duration(expected)}, ` +
      `the median time from first launch to merge of the ${String(times.length)} merged so far, less the time it has run`,
  };
}

/** From its first launch to its merge; null when it did not merge in this run. */
function mergeTime(record: IssueRecord): number | null {
  const started = record.attempts[0]?.startedAt;
  const merged = record.merge?.mergedAt ?? null;
  if (started === undefined || merged === null || record.merge?.squashSha == null) return null;
  const ms = Date.parse(merged) - Date.parse(started);
  return Number.isNaN(ms) ? null : Math.max(0, ms);
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? 0;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? upper) + upper) / 2;
}

/** "#12 → #13 → #15", the middle elided past six issues. */
function pathText(path: readonly number[]): string {
  const shown = path.length > 6 ? [...path.slice(0, 3), null, ...path.slice(-2)] : path;
  return shown.map((n) => (n === null ? "…" : `#${String(n)}`)).join(" → ");
}

/** "45s", "14m", "2h 05m": minutes are what a person plans with; seconds only under a minute. */
export function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${String(seconds)}s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${String(minutes)}m`;
  return `${String(Math.floor(minutes / 60))}h ${String(minutes % 60).padStart(2, "0")}m`;
}
