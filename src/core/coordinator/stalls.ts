import { isSettled, openAttempt } from "./queries.ts";
import type { Attempt, CoordinatorState, IssueRecord } from "./state.ts";

/**
 * Stalls (`coordinator.stallMinutes`, `RunSettings.stallMinutes`): an agent
 * that says nothing for that long while silence is not expected of it is
 * handled in steps, each a durable event (fold-stalls.ts) that the next
 * `stallMinutes` of silence moves on from: a nudge (a short message from the
 * `nudge` template), then a restart of the same attempt (resuming the
 * session where the preset can; not a new attempt and not a failure), then
 * "needs you" (needs-you.ts). Silence is expected, and nothing is counted,
 * while no attempt is open (verifying, waiting for a slot, a merge) and
 * while the account is parked by a usage limit (a running agent may be
 * waiting on it). Any agent event the runtime sees (services/coordinate/
 * stall-watch.ts) is `AgentActive`: the clock starts again and the steps
 * with it, except that a restart is made once per attempt: an agent that
 * stalls again after one is nudged, then needs you.
 */

export type StallStep = "nudged" | "restarted" | "escalated";

/** The open attempt's silence, as the log says it. */
export interface StallState {
  /** The attempt it is about: a later attempt starts with a clean slate. */
  readonly attempt: number;
  /** The last agent activity the runtime saw (the attempt's start before any), runtime's clock. */
  readonly quietSince: string;
  /** The last step taken in this silence, and when; null: none yet. */
  readonly step: StallStep | null;
  readonly stepAt: string | null;
  /** The attempt was restarted for a stall once already. */
  readonly restarted: boolean;
}

/** Every step taken in the run, for the report. */
export interface StallCounts {
  readonly nudged: number;
  readonly restarted: number;
  readonly escalated: number;
}

export const NO_STALLS: StallCounts = { nudged: 0, restarted: 0, escalated: 0 };

/** What the next step is. */
export type StallAction = "nudge" | "restart" | "escalate";

/** The silence of the issue's open attempt; null when none is open. */
export function stallOf(record: IssueRecord): StallState | null {
  const open = openAttempt(record);
  if (open === null) return null;
  const known = record.stall;
  return known != null && known.attempt === open.number ? known : freshStall(open);
}

function freshStall(attempt: Attempt): StallState {
  return { attempt: attempt.number, quietSince: attempt.startedAt, step: null, stepAt: null, restarted: false };
}

/** `stallMinutes` in milliseconds; null when the run watches no stalls (a log from before them). */
export function stallMs(state: CoordinatorState): number | null {
  const minutes = state.run?.settings.stallMinutes;
  return minutes === undefined ? null : minutes * 60_000;
}

/** Whether silence is unexpected now: an agent runs for an issue still in play, and the account is not parked. */
function watched(state: CoordinatorState, record: IssueRecord): StallState | null {
  if (isSettled(record) || state.parked !== null) return null;
  const stall = stallOf(record);
  return stall === null || stall.step === "escalated" ? null : stall;
}

/** When the next step falls due (ms since the epoch), silence going on; null when none will. */
export function stallDueAt(state: CoordinatorState, record: IssueRecord): number | null {
  const ms = stallMs(state);
  const stall = watched(state, record);
  if (ms === null || stall === null) return null;
  const since = Date.parse(stall.stepAt ?? stall.quietSince);
  return Number.isNaN(since) ? null : since + ms;
}

/** The step due now, if any. */
export function stallActionDue(state: CoordinatorState, record: IssueRecord, now: number): StallAction | null {
  const due = stallDueAt(state, record);
  const stall = stallOf(record);
  if (due === null || stall === null || now < due) return null;
  if (stall.step === null) return "nudge";
  return stall.step === "nudged" && !stall.restarted ? "restart" : "escalate";
}

/** Whole minutes (at least 1) the agent has been silent at `now`. */
export function silentMinutes(record: IssueRecord, now: number): number {
  const stall = stallOf(record);
  const since = stall === null ? Number.NaN : Date.parse(stall.quietSince);
  return Number.isNaN(since) ? 0 : Math.max(1, Math.round((now - since) / 60_000));
}

/** The open attempt is escalated: a person has to look (needs-you.ts). */
export function stalledForGood(record: IssueRecord): StallState | null {
  const stall = stallOf(record);
  return stall?.step === "escalated" && !isSettled(record) ? stall : null;
}
