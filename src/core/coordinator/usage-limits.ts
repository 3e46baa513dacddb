import type { Action } from "./actions.ts";
import type { AccountPark, CoordinatorState, IssueRecord } from "./state.ts";

/**
 * Usage limits belong to the agent's account, not to an issue. An account is
 * what the limit is counted against: one agent preset used with one source of
 * credentials (`agent.preset` plus the host variables `agent.passEnv` names;
 * "claude via ANTHROPIC_API_KEY"). A run has one agent configuration, so all
 * its workers share one account: when any of them hits the limit, every
 * launch waits (the workers already running go on, and most meet the limit
 * too). At the reset time plus a margin one launch probes; the others follow
 * once that probe reports without hitting the limit again.
 */

/** Past the reset the agent announced: its clock and ours differ, and the window may open late. */
export const USAGE_LIMIT_MARGIN_MS = 2 * 60_000;
/** How long an account is parked when its agent says no reset time (Codex, Gemini): then one launch probes. */
export const UNKNOWN_RESET_WAIT_MS = 30 * 60_000;

/** When launches on the account may start again (ISO 8601): the announced reset plus the margin, or a guess. */
export function parkUntil(resetsAt: string | null, now: number): string {
  const reset = resetsAt === null ? Number.NaN : Date.parse(resetsAt);
  const at = Number.isNaN(reset) ? now + UNKNOWN_RESET_WAIT_MS : Math.max(reset + USAGE_LIMIT_MARGIN_MS, now);
  return new Date(at).toISOString();
}

/** The account's name for people and the log. */
export function accountName(preset: string, credentialVariables: readonly string[]): string {
  return credentialVariables.length === 0 ? preset : `${preset} via ${[...credentialVariables].sort().join(", ")}`;
}

/**
 * How many agents may start now, as far as usage limits go: all (null), none
 * (the account waits for its reset, or its probe is out), or one (the probe).
 */
export function launchesAllowedByLimit(state: CoordinatorState, now: number, inFlight: readonly Action[]): number | null {
  const park = state.parked;
  if (park === null) return null;
  if (now < Date.parse(park.until) || park.probe !== null) return 0;
  return inFlight.some((action) => action.type === "Launch") ? 0 : 1;
}

/** The park after `RateLimited`: a limit met while parked (a worker that was already running) extends it. */
export function parkedBy(park: AccountPark | null, limit: { account: string; until: string; resetsAt: string | null; message: string | null; at: string }): AccountPark {
  const until = park !== null && Date.parse(park.until) > Date.parse(limit.until) ? park.until : limit.until;
  return { account: limit.account, since: park?.since ?? limit.at, until, resetsAt: limit.resetsAt ?? park?.resetsAt ?? null, message: limit.message ?? park?.message ?? null, probe: null };
}

/** Time an issue spent parked: from each attempt a limit ended to the next launch (or `now`, while it waits). */
export function issueParkedMs(record: IssueRecord, now: string | null): number {
  let total = 0;
  record.attempts.forEach((attempt, index) => {
    if (attempt.end !== "rate-limited" || attempt.endedAt === null) return;
    const resumed = record.attempts[index + 1]?.startedAt ?? (record.outcome === null ? now : record.outcome.at);
    if (resumed === null) return;
    const ms = Date.parse(resumed) - Date.parse(attempt.endedAt);
    if (!Number.isNaN(ms) && ms > 0) total += ms;
  });
  return total;
}

/** Time the run's account has been parked, closed parks and the open one (to `now`). */
export function runParkedMs(state: CoordinatorState, now: string | null): number {
  const open = state.parked === null || now === null ? 0 : Math.max(0, Date.parse(now) - Date.parse(state.parked.since));
  return state.parkedMs + (Number.isNaN(open) ? 0 : open);
}
