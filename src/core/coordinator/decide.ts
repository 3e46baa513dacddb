import { actionKey, type Action } from "./actions.ts";
import { decisionContext } from "./decision-context.ts";
import { currentCheck, internalGateHolding, isSettled, openAttempt } from "./queries.ts";
import { exitCodeOf } from "./report.ts";
import { coordinatorRules, PULL_REQUEST_POLL_MS, type RuleName } from "./rules.ts";
import type { CoordinatorState } from "./state.ts";
import { stallDueAt } from "./stalls.ts";

/** An action and the row of the table that asked for it, for the log. */
export interface Decision {
  readonly rule: RuleName | "finish";
  readonly reason: string;
  readonly action: Action;
}

/** The run-level row, after the table: it ends the run once nothing else is left to do. */
export const finishRule = {
  name: "finish",
  reason: "every issue is merged, failed or blocked, and nothing is left to do or in flight",
} as const;

/**
 * The next actions, given the state, the time (ms since the epoch) and the
 * actions still in flight. Level-triggered: it returns everything the state
 * calls for now, minus what is in flight, so calling it again before an
 * outcome is recorded asks for nothing twice, and a launch in flight keeps its
 * slot. World actions the runtime gave up (`ActionFailed` with `givenUp`:
 * they failed too often in a row, see coordinator-runtime/retry.ts) are
 * never asked for again, of any attempt of the same kind on the same issue,
 * and, unlike those in flight, they do not keep the run from finishing.
 * Pure: the same arguments always give the same actions.
 */
export function decide(state: CoordinatorState, now: number, inFlight: readonly Action[] = []): Action[] {
  return explain(state, now, inFlight).map((decision) => decision.action);
}

/** What a give-up matches on: the kind of action and its issue, whatever its other arguments (a check's time, a push's head). */
export function givenUpKey(action: Action): string {
  return action.type === "Finish" ? "finish" : `${action.type}:${String(action.issue)}`;
}

/** `decide`, with the rule and reason behind each action. */
export function explain(state: CoordinatorState, now: number, inFlight: readonly Action[] = []): Decision[] {
  const run = state.run;
  if (run === null || !state.loaded || state.finished !== null) return [];
  const context = decisionContext(state, run, now, inFlight);
  const issues = Object.values(state.issues).sort((a, b) => a.number - b.number);
  const seen = new Set(context.inFlight);
  const abandoned = new Set(
    issues.flatMap((issue) => Object.entries(issue.actionFailures).filter(([, failures]) => failures.givenUp).map(([kind]) => `${kind}:${String(issue.number)}`)),
  );
  const decisions: Decision[] = [];
  for (const rule of coordinatorRules) {
    for (const issue of issues) {
      if (!rule.when(issue, context)) continue;
      for (const action of rule.then(issue, context)) {
        const key = actionKey(action);
        if (seen.has(key) || abandoned.has(givenUpKey(action))) continue;
        seen.add(key);
        decisions.push({ rule: rule.name, reason: rule.reason, action });
      }
    }
  }
  if (decisions.length === 0 && inFlight.length === 0 && issues.every((issue) => isSettled(issue) && openAttempt(issue) === null)) {
    decisions.push({ rule: finishRule.name, reason: finishRule.reason, action: { type: "Finish", exitCode: exitCodeOf(state) } });
  }
  return decisions;
}

/**
 * When `decide` may ask for something new without any event arriving: a rate
 * limit ends, or a pending pull request is due to be asked about again.
 * The runtime sleeps until then (or until the next event). Null: nothing is timed.
 */
export function nextWakeAt(state: CoordinatorState): number | null {
  let wake: number | null = null;
  const consider = (time: number): void => {
    if (!Number.isNaN(time) && (wake === null || time < wake)) wake = time;
  };
  if (state.parked !== null && state.parked.probe === null) consider(Date.parse(state.parked.until));
  for (const issue of Object.values(state.issues)) {
    if (isSettled(issue)) continue;
    // While the account is parked its time governs: an issue's own may be older (the park was extended).
    if (state.parked === null && issue.rateLimitedUntil !== null && issue.pending !== null) consider(Date.parse(issue.rateLimitedUntil));
    // An agent silent past coordinator.stallMinutes takes its next step then (stalls.ts).
    const stall = stallDueAt(state, issue);
    if (stall !== null) consider(stall);
    const check = currentCheck(state, issue);
    if (check !== null && (check.checks === "pending" || check.mergeability === "unknown") && internalGateHolding(state, issue) === null) {
      consider(Date.parse(check.at) + PULL_REQUEST_POLL_MS);
    }
  }
  return wake;
}
