import { baseBranchDecision, type BaseBranchDecision } from "../plan/base-branch-rule.ts";
import { holdsVerifiedWork } from "./stack-on.ts";
import type { Attempt, CoordinatorState, IssueRecord, LandingRecord, PullRequestCheck, TipVerdict } from "./state.ts";
import type { RunSettings, TrainCar } from "./vocabulary.ts";

/**
 * Questions about the state that the fold, the statuses and the rules share,
 * so each is answered in one place.
 */

export function isMerged(record: IssueRecord): boolean {
  return record.mergedBeforeRun || record.merge?.squashSha != null;
}

/** Squash merge under way: `MergeReady` recorded, `Merged` not yet. */
export function isMerging(record: IssueRecord): boolean {
  return record.merge !== null && record.merge.squashSha === null;
}

/** Merged, failed or blocked: nothing more happens to it but cleanup. */
export function isSettled(record: IssueRecord): boolean {
  return isMerged(record) || record.outcome !== null;
}

export function lastAttempt(record: IssueRecord): Attempt | null {
  return record.attempts[record.attempts.length - 1] ?? null;
}

/** The attempt whose agent is running, if any. Only the last attempt can be open. */
export function openAttempt(record: IssueRecord): Attempt | null {
  const last = lastAttempt(record);
  return last !== null && last.end === null ? last : null;
}

/** The operator's `reset N` of an issue that started in this run is pending (fold-fresh.ts): its next launch starts it over from its base. */
export function resetPending(record: IssueRecord): boolean {
  return record.freshStart && record.attempts.length > 0;
}

/** Failed attempts that count against `maxAttempts`: those since the operator's last `retry N` (fold-retry.ts). */
export function failureCount(record: IssueRecord): number {
  const since = record.retriedAfter ?? 0;
  return record.attempts.filter((attempt) => attempt.failure !== null && attempt.number > since).length;
}

/** The last attempt, when it failed and nothing was decided about it yet. */
export function unresolvedFailure(record: IssueRecord): Attempt | null {
  const last = lastAttempt(record);
  // An attempt from before the operator's retry or reset decides nothing (a reset's stopped agent may still report a failure).
  if (last === null || last.number <= (record.retriedAfter ?? 0)) return null;
  return last.end !== null && last.failure !== null && last.resolution === null ? last : null;
}

/** A reported head not pushed yet. */
export function hasUnpushedWork(record: IssueRecord): boolean {
  return record.headSha !== null && record.headSha !== record.pushedSha;
}

/** Work is on the forge: some attempt produced a head, and that head is what the forge has. */
export function hasPushedWork(record: IssueRecord): boolean {
  return record.headSha !== null && record.headSha === record.pushedSha;
}

/** Whether dependency `d` (an issue number, or `owner/repo#N`) counts as merged. */
export function dependencyMerged(state: CoordinatorState, d: number | string): boolean {
  if (typeof d === "number") {
    const record = state.issues[d];
    if (record !== undefined) return isMerged(record);
  }
  return state.outside[String(d)] === "closed";
}

/** Unmerged dependencies, this repository's ascending, then other repositories' in the order written. */
export function unmergedDependencies(state: CoordinatorState, record: IssueRecord): (number | string)[] {
  return [...record.dependencies, ...record.external].filter((d) => !dependencyMerged(state, d));
}

/**
 * Whether `issue-<d>` can be a base now: it is one of this run's, holds
 * verified work on the forge (stack-on.ts), is not merged, not being merged
 * (its stack is about to be recorded), not settled, and not itself waiting
 * for a restack.
 */
export function isStackableBase(state: CoordinatorState, d: number): boolean {
  const record = state.issues[d];
  if (record === undefined || state.run?.settings.stacking !== true) return false;
  return record.attempts.length > 0 && holdsVerifiedWork(state, record) && !isSettled(record) && !isMerging(record) && restackTarget(state, record) === null;
}

/** The base-branch rule of design.md §4 for an issue not launched yet. */
export function basePlan(state: CoordinatorState, record: IssueRecord): BaseBranchDecision {
  return baseBranchDecision({
    named: record.dependencies.length + record.external.length,
    unmerged: unmergedDependencies(state, record),
    hasBranch: (d) => isStackableBase(state, d),
    featureBranch: state.run?.settings.featureBranch ?? "",
  });
}

export interface RestackTarget {
  /** The issue whose merge or rewrite calls for the restack. */
  readonly parent: number;
  readonly onto: string;
  readonly ontoSha: string;
  readonly from: string | null;
}

/**
 * Where a stacked branch must move: onto the squash commit once its parent
 * is merged (and then it sits on the feature branch), or onto the parent's
 * head on the forge once that moved from where the branch sits: the
 * parent's history was rewritten, or its agent pushed more work, which the
 * stacked branch is meant to build on (and its verify to see). Null when it
 * is where it belongs.
 */
export function restackTarget(state: CoordinatorState, record: IssueRecord): RestackTarget | null {
  if (record.stackedOn === null || isSettled(record)) return null;
  const parent = state.issues[record.stackedOn];
  if (parent === undefined || parent.outcome !== null) return null;
  const squash = parent.merge?.squashSha ?? null;
  if (squash !== null) {
    return { parent: parent.number, onto: state.run?.settings.featureBranch ?? "", ontoSha: squash, from: record.baseSha };
  }
  if (parent.pushedSha === null || isMerging(parent)) return null;
  const advanced = hasPushedWork(parent) && record.baseSha !== parent.pushedSha;
  return rewritten(parent, record) || advanced ? { parent: parent.number, onto: parent.branch, ontoSha: parent.pushedSha, from: record.baseSha } : null;
}

/** The parent's history was rewritten since the branch took its base sha. */
function rewritten(parent: IssueRecord, record: IssueRecord): boolean {
  return parent.generation > record.baseGeneration;
}

/**
 * A stacked branch is verified on top of its parent's verified work: the
 * parent's pushed head passed verify and the branch sits on that very head
 * (or the parent merged, after which the branch is restacked onto the
 * squash). `restackTarget` alone does not say the branch sits there: while
 * the parent is being merged it asks for no restack (the squash is awaited),
 * so a branch made before the parent pushed would be judged without the code
 * it builds on, and fail.
 */
export function parentVerified(state: CoordinatorState, record: IssueRecord): boolean {
  const parent = record.stackedOn === null ? undefined : state.issues[record.stackedOn];
  if (parent === undefined || isMerged(parent)) return true;
  return verifyPassed(state, parent) && record.baseSha === parent.pushedSha && !rewritten(parent, record);
}

/** The verify commands, `verify.all` then `verify.e2e`, those set. */
export function verifyCommands(settings: RunSettings): string[] {
  return [settings.verify.all, settings.verify.e2e].filter((command): command is string => command !== null);
}

/** The pushed head passed verify (or there is nothing to run). */
export function verifyPassed(state: CoordinatorState, record: IssueRecord): boolean {
  if (state.run === null || verifyCommands(state.run.settings).length === 0) return hasPushedWork(record);
  return hasPushedWork(record) && record.verification?.headSha === record.pushedSha && record.verification.passed;
}

/** The pushed head has no verify result yet. */
export function awaitsVerify(state: CoordinatorState, record: IssueRecord): boolean {
  if (state.run === null || verifyCommands(state.run.settings).length === 0) return false;
  return hasPushedWork(record) && record.verification?.headSha !== record.pushedSha;
}

export function reviewSatisfied(state: CoordinatorState, record: IssueRecord): boolean {
  return state.run?.settings.review !== true || record.review.passed;
}

/** The observation of the pull request that still holds: for the pushed head, after every merge so far. */
export function currentCheck(state: CoordinatorState, record: IssueRecord): PullRequestCheck | null {
  const check = record.check;
  return check !== null && check.headSha === record.pushedSha && check.epoch === state.epoch ? check : null;
}

/** No agent running, nothing reported and unpushed, no failure undecided, no merge under way: a branch that may be moved or merged. */
export function isQuiet(record: IssueRecord): boolean {
  return (
    openAttempt(record) === null &&
    !hasUnpushedWork(record) &&
    unresolvedFailure(record) === null &&
    !isMerging(record)
  );
}

/**
 * The merge gate of design.md §4, in order; the first one not met holds the
 * pull request. `checks` and `mergeable` are read from the newest observation
 * that still holds; `landing` last: the tree the merge would make passed verify.
 */
export const mergeGates = ["pull-request", "dependencies", "settled-work", "base", "verify", "review", "checks", "mergeable", "landing"] as const;
export type MergeGate = (typeof mergeGates)[number];

export function mergeGateHolding(state: CoordinatorState, record: IssueRecord): MergeGate | null {
  return internalGateHolding(state, record) ?? observedGateHolding(state, record) ?? (landingPassed(state, record) ? null : "landing");
}

/** The gates cspace knows without asking the forge. */
export function internalGateHolding(state: CoordinatorState, record: IssueRecord): MergeGate | null {
  const feature = state.run?.settings.featureBranch;
  if (record.pullRequest === null) return "pull-request";
  if (unmergedDependencies(state, record).length > 0) return "dependencies";
  if (!isQuiet(record) || record.pending !== null || record.restackConflict !== null || restackTarget(state, record) !== null) {
    return "settled-work";
  }
  if (record.stackedOn !== null || record.pullRequest.base !== feature) return "base";
  if (!verifyPassed(state, record)) return "verify";
  if (!reviewSatisfied(state, record)) return "review";
  return null;
}

function observedGateHolding(state: CoordinatorState, record: IssueRecord): MergeGate | null {
  const check = currentCheck(state, record);
  if (check === null || (check.checks !== "success" && check.checks !== "none")) return "checks";
  return check.mergeability === "mergeable" ? null : "mergeable";
}

/**
 * Only verified trees land (fold-verification.ts, rules-verification.ts): the
 * tree a merge would make, the pull request's head merged into the feature
 * branch's current tip, must have passed verify. The tip is named by the
 * epoch (merges so far): only this run moves the feature branch, and a merge
 * finds out when someone else did (the base moved: the verification is stale).
 */
export function verifiesLanding(state: CoordinatorState): boolean {
  return state.run?.settings.verifyLanding === true && verifyCommands(state.run.settings).length > 0;
}

/** The feature branch's tip verified alone at the current epoch, if it was. */
export function tipVerdict(state: CoordinatorState): TipVerdict | null {
  return state.tips?.[state.epoch] ?? null;
}

/** The verification of the tree that would land now: this head on this tip (every car that was ahead of it has merged). */
export function currentLanding(state: CoordinatorState, record: IssueRecord): LandingRecord | null {
  const landing = record.landing;
  return landing != null && landing.headSha === record.pushedSha && carsAhead(state, landing)?.length === 0 ? landing : null;
}

/**
 * The cars of a landing's train still to merge before it: null when it is
 * stale (the merges since its tip are not its cars ahead, in order). A
 * verification holds for one tip and the heads merged onto it.
 */
export function carsAhead(state: CoordinatorState, landing: { readonly epoch: number; readonly ahead?: readonly TrainCar[] | undefined }): readonly TrainCar[] | null {
  const ahead = landing.ahead ?? [];
  const mergedSince = state.epoch - landing.epoch;
  if (mergedSince < 0 || mergedSince > ahead.length) return null;
  const landed = state.landed ?? [];
  for (let i = 0; i < mergedSince; i += 1) {
    const car = ahead[i];
    const merge = landed[landing.epoch + i];
    if (car === undefined || merge === undefined || merge.issue !== car.issue || merge.headSha !== car.headSha) return null;
  }
  return ahead.slice(mergedSince);
}

/** The tree that would land now passed verify (or there is nothing to run). */
export function landingPassed(state: CoordinatorState, record: IssueRecord): boolean {
  return !verifiesLanding(state) || currentLanding(state, record)?.result === "passed";
}
