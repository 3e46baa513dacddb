import type { Action } from "./actions.ts";
import type { Rule } from "./rules.ts";
import { silentMinutes, stallActionDue, stallOf } from "./stalls.ts";
import type { IssueRecord } from "./state.ts";

/**
 * The stall steps as rows of the rule table (stalls.ts): a silent agent is
 * nudged, then its attempt restarted, then it needs you, each after another
 * `coordinator.stallMinutes` of silence. One step at a time per issue: none
 * is asked for while another of the issue's is in flight.
 */
export type StallRuleName = "nudgeStalled" | "restartStalled" | "escalateStall";

export const nudgeStalled: Rule = {
  name: "nudgeStalled",
  reason: "its agent said nothing for coordinator.stallMinutes while working: send it a short message (the nudge template)",
  when: (issue, context) => stallActionDue(context.state, issue, context.now) === "nudge" && !stepInFlight(issue, context.inFlightActions),
  then: (issue, { now }) => stepOf(issue, now, (fields) => ({ type: "NudgeStalled", ...fields })),
};

export const restartStalled: Rule = {
  name: "restartStalled",
  reason: "still silent for coordinator.stallMinutes after the nudge: restart the same attempt (resuming its session where the preset can)",
  when: (issue, context) => stallActionDue(context.state, issue, context.now) === "restart" && !stepInFlight(issue, context.inFlightActions),
  then: (issue, { now }) =>
    stepOf(issue, now, (fields) => ({
      type: "RestartStalled",
      ...fields,
      reason: `cspace restarted you: nothing came from you for ${String(fields.silentMinutes)} minutes, even after a message. Continue the issue where you left it.`,
    })),
};

export const escalateStall: Rule = {
  name: "escalateStall",
  reason: "still silent for coordinator.stallMinutes after the nudge and the restart: it needs a person (the agent is left running)",
  when: (issue, context) => stallActionDue(context.state, issue, context.now) === "escalate" && !stepInFlight(issue, context.inFlightActions),
  then: (issue, { now }) => stepOf(issue, now, (fields) => ({ type: "EscalateStall", ...fields })),
};

type StepFields = { readonly issue: number; readonly instance: string; readonly attempt: number; readonly since: string; readonly silentMinutes: number };

function stepOf(issue: IssueRecord, now: number, make: (fields: StepFields) => Action): Action[] {
  const stall = stallOf(issue);
  if (stall === null) return [];
  return [make({ issue: issue.number, instance: issue.branch, attempt: stall.attempt, since: stall.stepAt ?? stall.quietSince, silentMinutes: silentMinutes(issue, now) })];
}

function stepInFlight(issue: IssueRecord, inFlight: readonly Action[]): boolean {
  return inFlight.some((action) => (action.type === "NudgeStalled" || action.type === "RestartStalled") && action.issue === issue.number);
}
