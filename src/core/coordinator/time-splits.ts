import type { CoordinatorEvent } from "./events.ts";
import { runOverBudget } from "./budget.ts";
import { fullHost } from "./host-slots.ts";
import { isSettled, openAttempt } from "./queries.ts";
import { apply, initialState, type CoordinatorState, type IssueRecord } from "./state.ts";

/**
 * Where each issue's time in a run went, from the event log's timestamps
 * (the report's time columns and the after-action review). The log is
 * walked event by event: the time between two events is given, for every
 * issue not settled yet, to what its status (status.ts) said it was doing
 * after the first of them. So the parts of an issue always add up to its
 * time in the run: from the run's start to its merge (or its failure or
 * block, or the run's last event when it never settled).
 */
export interface TimeSplit {
  /** From the run's start to the issue's merge, failure or block (or the run's last event): the sum of the parts below. */
  readonly totalMs: number;
  /** An agent ran for it: implementing, retrying, rebasing or reviewing. */
  readonly workingMs: number;
  /** It waited for issues it depends on: to merge before it could start, or to merge before its pull request could (stacked). */
  readonly dependenciesMs: number;
  /** It could start but every slot was taken (coordinator.maxParallel), or a pause or the budget held it. */
  readonly slotMs: number;
  /** Its instance was being made (at the start, or again after its worker was lost), or its agent being started. */
  readonly startingMs: number;
  /** Its agent's account was parked by a usage limit. */
  readonly parkedMs: number;
  /** Its head was being pushed or verified (alone, or merged into the feature branch's tip). */
  readonly verifyingMs: number;
  /** Its pull request was open and waiting to merge: checks, the merge train's order, a restack, the squash merge itself. */
  readonly mergingMs: number;
  /** The coordinator was not running (between an interruption and `--resume`). */
  readonly stoppedMs: number;
}

export type TimePart = Exclude<keyof TimeSplit, "totalMs">;

export const TIME_PARTS: readonly TimePart[] = ["workingMs", "dependenciesMs", "slotMs", "startingMs", "parkedMs", "verifyingMs", "mergingMs", "stoppedMs"];

export interface RunTimes {
  /** Each issue of the run, by number. */
  readonly issues: Readonly<Record<number, TimeSplit>>;
  /**
   * How long each issue waited on each of its dependencies (issue → dependency → ms); a wait on several at once
   * counts for each. What the review's "splitting #12 would have let #13 start earlier" is computed from.
   */
  readonly waitedOn: Readonly<Record<number, Readonly<Record<number, number>>>>;
}

/** Walks the run's events (as the log holds them, in order) and splits each issue's time. */
export function timeSplits(events: readonly CoordinatorEvent[]): RunTimes {
  let state = initialState();
  let loads = 0;
  let previous: number | null = null;
  const parts = new Map<number, Record<TimePart, number>>();
  const waitedOn = new Map<number, Map<number, number>>();
  for (const event of events) {
    const at = Date.parse(event.at);
    if (event.type === "IssuesLoaded") loads++;
    // Nothing counts after the run's end: what is recorded then (a notification of the end) is not the run's time.
    if (state.run !== null && state.finished === null && previous !== null && !Number.isNaN(at)) {
      const ms = Math.max(0, at - previous);
      // Issues are read again on each resume: the time before it, the coordinator was not running.
      const resumed = event.type === "IssuesLoaded" && loads > 1;
      for (const record of Object.values(state.issues)) {
        if (isSettled(record)) continue;
        const part = resumed ? "stoppedMs" : partOf(state, record);
        const split = parts.get(record.number) ?? emptyParts();
        split[part] += ms;
        parts.set(record.number, split);
        if (part === "dependenciesMs") for (const d of waitedDependencies(record)) addWait(waitedOn, record.number, d, ms);
      }
    }
    state = apply(state, event);
    if (!Number.isNaN(at)) previous = previous === null ? at : Math.max(previous, at);
  }
  const issues: Record<number, TimeSplit> = {};
  for (const n of Object.keys(state.issues).map(Number)) {
    const split = parts.get(n) ?? emptyParts();
    issues[n] = { totalMs: TIME_PARTS.reduce((sum, part) => sum + split[part], 0), ...split };
  }
  return { issues, waitedOn: Object.fromEntries([...waitedOn].map(([n, waits]) => [n, Object.fromEntries(waits)])) };
}

/** What the issue was doing, as its status says. */
function partOf(state: CoordinatorState, record: IssueRecord): TimePart {
  if (openAttempt(record) !== null) return "workingMs";
  const { kind, waitingOn } = record.status;
  switch (kind) {
    case "waiting":
      return "dependenciesMs";
    case "rate-limited":
      return "parkedMs";
    case "warming":
      return "startingMs";
    case "ready":
      // Ready, but the account is parked: that is the limit's time, not a slot's.
      return state.parked !== null ? "parkedMs" : waitingToLaunch(state, record);
    case "working":
      return "workingMs";
    case "verifying":
      return "verifyingMs";
    case "rebasing":
    case "reviewing":
      // No agent runs: either its next prompt waits for a slot, or the host restacks it.
      return record.pending !== null ? waitingToLaunch(state, record) : "mergingMs";
    case "pr-open":
      // A stacked pull request held until its dependencies merge waits on them, not on the merge.
      return waitingOn.some((ref) => typeof ref === "number") ? "dependenciesMs" : "mergingMs";
    case "merging":
    case "merged":
    case "failed":
    case "blocked":
      return "mergingMs";
  }
}

/**
 * Ready to launch: waiting for a slot when every slot is taken (or a pause or the budget holds it); otherwise its
 * launch is under way (the log has no event for a launch in flight, only for one made).
 */
function waitingToLaunch(state: CoordinatorState, record: IssueRecord): TimePart {
  const running = Object.values(state.issues).filter((other) => openAttempt(other) !== null).length;
  const held = state.paused || record.paused || runOverBudget(state) !== null;
  return held || running >= (state.run?.settings.maxParallel ?? 1) || fullHost(state, record) !== null ? "slotMs" : "startingMs";
}

/** The run's issues the status names as what it waits on. */
function waitedDependencies(record: IssueRecord): number[] {
  return record.status.waitingOn.filter((ref): ref is number => typeof ref === "number");
}

function addWait(waits: Map<number, Map<number, number>>, issue: number, on: number, ms: number): void {
  const byDependency = waits.get(issue) ?? new Map<number, number>();
  byDependency.set(on, (byDependency.get(on) ?? 0) + ms);
  waits.set(issue, byDependency);
}

function emptyParts(): Record<TimePart, number> {
  return { workingMs: 0, dependenciesMs: 0, slotMs: 0, startingMs: 0, parkedMs: 0, verifyingMs: 0, mergingMs: 0, stoppedMs: 0 };
}
