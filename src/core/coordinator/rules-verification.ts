import type { Action } from "./actions.ts";
import type { DecisionContext } from "./decision-context.ts";
import { currentLanding, isMerging, isQuiet, isSettled, openAttempt, tipVerdict, verifiesLanding, verifyCommands } from "./queries.ts";
import type { Rule } from "./rules.ts";
import type { CoordinatorState, IssueRecord } from "./state.ts";
import { CHECKOUT_ACTIONS } from "./train.ts";

/**
 * The rule: every commit cspace puts on the feature branch has a tree on
 * which the verify commands passed. The rows below (inserted into
 * `coordinatorRules`) verify that tree before each merge, as a train of
 * candidates in merge order (train.ts): a verification holds for one tip and
 * the heads merged onto it; verify the tip alone once
 * per tip when it is needed to judge a failure, and before the first agent
 * starts; block everything on a red tip instead of burning attempts; and stop
 * merging when a squash commit's tree is not the tree that was verified.
 */

export type VerificationRuleName = "verifyBase" | "blockOnRedBase" | "failOnLandingMismatch" | "verifyLanding";

export const failOnLandingMismatch: Rule = {
  name: "failOnLandingMismatch",
  reason: "a squash commit's tree was not the verified tree: cspace merges nothing more, and each issue left fails once its agent is done",
  when: (issue, { state, inFlightActions }) =>
    state.landingMismatch !== undefined && !isSettled(issue) && !isMerging(issue) && openAttempt(issue) === null && !touching(issue, inFlightActions),
  then: (issue, { state, run }) => {
    const m = state.landingMismatch;
    if (m === undefined) return [];
    const reason =
      `cspace stopped merging: #${String(m.issue)} landed on ${run.settings.featureBranch} as ${short(m.squashSha)} with tree ${short(m.squashTree)}, ` +
      `not the verified tree ${short(m.verifiedTree)}; check ${run.settings.featureBranch} before merging anything more`;
    return [{ type: "Fail", issue: issue.number, reason }];
  },
};

export const blockOnRedBase: Rule = {
  name: "blockOnRedBase",
  reason: "the feature branch alone fails verify at its tip: every candidate would fail on it, so no issue's attempts are spent on it",
  when: (issue, { state, inFlightActions }) =>
    tipVerdict(state)?.passed === false && !isSettled(issue) && !isMerging(issue) && openAttempt(issue) === null && !touching(issue, inFlightActions),
  then: (issue, { state, run }) => {
    const tip = tipVerdict(state);
    if (tip === null) return [];
    const how = `${tip.command ?? "verify"} ${tip.exitCode === null ? "did not finish" : `exited ${String(tip.exitCode)}`}`;
    return [{ type: "Block", issue: issue.number, by: { kind: "base", sha: tip.sha }, reason: `${run.settings.featureBranch} is red at ${short(tip.sha)}: every candidate would fail (${how})` }];
  },
};

export const verifyBase: Rule = {
  name: "verifyBase",
  reason: "the feature branch's tip has not been verified alone, and that is needed: before the first agent starts, or to judge a combined tree that failed",
  when: (issue, context) => baseVerifier(context) === issue.number,
  then: (issue, { state, run }) => [
    { type: "VerifyBase", issue: issue.number, instance: issue.branch, branch: run.settings.featureBranch, epoch: state.epoch, commands: verifyCommands(run.settings) },
  ],
};

export const verifyLanding: Rule = {
  name: "verifyLanding",
  reason:
    "every other gate is met and the merge train has room: verify its head merged into the feature branch's tip with the cars ahead of it merged first, in its own worker",
  when: (issue, { state, train }) => train.has(issue.number) && !baseVerdictNeeded(state),
  then: (issue, { state, run, train }) => [
    {
      type: "VerifyLanding",
      issue: issue.number,
      instance: issue.branch,
      headSha: issue.pushedSha ?? "",
      base: run.settings.featureBranch,
      epoch: state.epoch,
      ahead: train.get(issue.number) ?? [],
      since: issue.baseSha,
      commands: verifyCommands(run.settings),
    },
  ],
};

/** Agents wait until the tip they will start from is known to pass alone: a red feature branch spends no attempt. */
export function launchesHeld(state: CoordinatorState): boolean {
  return verifiesLanding(state) && (Object.keys(state.tips ?? {}).length === 0 || tipVerdict(state)?.passed === false);
}

/** A verification of the tip alone is wanted now: none yet in this run, or a combined tree failed on a tip never verified alone. */
function baseVerdictNeeded(state: CoordinatorState): boolean {
  if (!verifiesLanding(state) || tipVerdict(state) !== null || state.landingMismatch !== undefined) return false;
  return Object.keys(state.tips ?? {}).length === 0 || Object.values(state.issues).some((record) => awaitsJudgement(state, record));
}

function awaitsJudgement(state: CoordinatorState, record: IssueRecord): boolean {
  const landing = currentLanding(state, record);
  return landing?.result === "failed" && !landing.blamed && !isSettled(record);
}

/** The issue whose worker verifies the tip alone: one whose combined tree awaits judgement, else the first idle warmed one. */
function baseVerifier({ state, inFlightActions }: DecisionContext): number | null {
  if (!baseVerdictNeeded(state) || inFlightActions.some((action) => action.type === "VerifyBase")) return null;
  const idle = Object.values(state.issues)
    .filter((record) => !isSettled(record) && record.warm === "ready" && isQuiet(record) && !touching(record, inFlightActions))
    .sort((a, b) => a.number - b.number);
  return (idle.find((record) => awaitsJudgement(state, record)) ?? idle[0])?.number ?? null;
}

function touching(record: IssueRecord, inFlight: readonly Action[]): boolean {
  return inFlight.some((action) => action.type !== "Finish" && action.issue === record.number && CHECKOUT_ACTIONS.has(action.type));
}

function short(value: string): string {
  return value.slice(0, 7);
}
