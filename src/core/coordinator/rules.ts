import type { Action, Merge } from "./actions.ts";
import { issueOverBudget } from "./budget.ts";
import { stopOverBudget } from "./rules-budget.ts";
import { launchFor, type DecisionContext } from "./decision-context.ts";
import {
  awaitsVerify,
  currentCheck,
  currentLanding,
  failureCount,
  hasPushedWork,
  hasUnpushedWork,
  internalGateHolding,
  isMerged,
  isMerging,
  isQuiet,
  isSettled,
  lastAttempt,
  openAttempt,
  parentVerified,
  restackTarget,
  unresolvedFailure,
  verifiesLanding,
  verifyCommands,
  verifyPassed,
} from "./queries.ts";
import { predictConflictsRule, recordConflictMetRule, warnOfConflictRule } from "./rules-predictions.ts";
import { escalateStall, nudgeStalled, restartStalled, type StallRuleName } from "./rules-stalls.ts";
import type { Attempt, CoordinatorState, IssueRecord } from "./state.ts";
import type { LaunchPrompt } from "./vocabulary.ts";
import { blockOnRedBase, failOnLandingMismatch, launchesHeld, verifyBase, verifyLanding, type VerificationRuleName } from "./rules-verification.ts";

/**
 * The coordinator's decisions as a table, like the base-branch rule: one row
 * per rule, each a question about one issue (`when`) and what it asks for
 * (`then`), with the one-line reason the log gives. `decide` evaluates the
 * rows in this order, each over the issues in ascending order; every row that
 * holds contributes. Rows exclude each other where they must (a failure is
 * retried or failed, never both), so the order is only the order of the output.
 */
export interface Rule {
  readonly name: RuleName;
  readonly reason: string;
  readonly when: (issue: IssueRecord, context: DecisionContext) => boolean;
  readonly then: (issue: IssueRecord, context: DecisionContext) => readonly Action[];
}

export type RuleName =
  | "failUnwarmable"
  | "failUnstartable"
  | "failRefusedMerge"
  | "failOverBudget"
  | "failOnUsageLimit"
  | "failAfterMaxAttempts"
  | "retryFailure"
  | "blockByWorker"
  | "blockOnDependency"
  | "blockOnOutsideDependency"
  | "warm"
  | "launch"
  | "moveToFreeHost"
  | "push"
  | "restack"
  | "rebaseAfterRestackConflict"
  | "verify"
  | "openPullRequest"
  | "retarget"
  | "requestReview"
  | "concludeReview"
  | "checkPullRequest"
  | "rebaseConflictingPullRequest"
  | "merge"
  | "finishMerge"
  | "closeIssue"
  | "deleteBranch"
  | "deleteEmptyBranch"
  | "stopOverBudget"
  | VerificationRuleName

  | "predictConflicts"
  | "warnOfConflict"
  | "recordConflictMet"
  | StallRuleName;

/** How long a pending check or an unknown mergeability is left before the forge is asked again. */
export const PULL_REQUEST_POLL_MS = 15_000;

const active = (issue: IssueRecord): boolean => !isSettled(issue);

export const coordinatorRules: readonly Rule[] = [
  {
    name: "failUnwarmable",
    reason: "its instance could not be made: the issue fails, the run goes on",
    when: (issue, context) => active(issue) && idle(issue, context) && issue.warm === "failed",
    then: (issue) => [{ type: "Fail", issue: issue.number, reason: `instance ${issue.branch} could not be made: ${issue.warmError ?? "unknown error"}` }],
  },
  {
    name: "failUnstartable",
    reason: "its agent could not be started coordinator.maxAttempts times in a row (no executable, nothing to install it with): the issue fails, the run goes on",
    when: (issue, context) => active(issue) && idle(issue, context) && (issue.launchFailures?.count ?? 0) >= context.run.settings.maxAttempts,
    then: (issue) => [{ type: "Fail", issue: issue.number, reason: `its agent could not be started (${String(issue.launchFailures?.count ?? 0)} tries): ${issue.launchFailures?.error ?? "unknown error"}` }],
  },
  {
    name: "failRefusedMerge",
    reason: "someone else moved the branch or closed the pull request: cspace does not overwrite people's work",
    when: (issue, context) => active(issue) && idle(issue, context) && issue.refused !== null,
    then: (issue) => [{ type: "Fail", issue: issue.number, reason: `the forge refused the merge (${issue.refused?.reason ?? "?"}): ${issue.refused?.detail ?? ""}` }],
  },
  {
    name: "failOverBudget",
    reason: "the issue spent coordinator.budget.issue: it is stopped once its agent is done, and fails",
    when: (issue, context) => active(issue) && idle(issue, context) && openAttempt(issue) === null && issueOverBudget(context.state, issue) !== null,
    then: (issue, { state }) => [{ type: "Fail", issue: issue.number, reason: `over budget: ${issueOverBudget(state, issue) ?? ""}` }],
  },
  stopOverBudget,
  {
    name: "failOnUsageLimit",
    reason: 'coordinator.onUsageLimit is "fail": an issue whose agent met the account\'s usage limit, or that would start while the account is parked, fails',
    when: (issue, context) =>
      context.run.settings.onUsageLimit === "fail" &&
      context.state.parked !== null &&
      active(issue) &&
      idle(issue, context) &&
      openAttempt(issue) === null &&
      (lastAttempt(issue)?.end === "rate-limited" || launchFor(context.state, context.run, issue, context.now) !== null),
    then: (issue, { state }) => {
      const park = state.parked;
      const what = park === null ? "" : `${park.account} hit its usage limit${park.message === null ? "" : ` (${park.message})`}${park.resetsAt === null ? "" : `, resetting at ${park.resetsAt}`}`;
      return [{ type: "Fail", issue: issue.number, reason: `${what}; coordinator.onUsageLimit is "fail"` }];
    },
  },
  {
    name: "failAfterMaxAttempts",
    reason: "an attempt failed and the issue has used coordinator.maxAttempts",
    when: (issue, context) =>
      active(issue) && idle(issue, context) && unresolvedFailure(issue) !== null && failureCount(issue) >= context.run.settings.maxAttempts,
    then: (issue, { run }) => {
      const failed = unresolvedFailure(issue);
      const reason = `${failureCount(issue)} of ${run.settings.maxAttempts} attempts failed; the last: ${failed?.failure?.summary ?? "?"}`;
      return [{ type: "Fail", issue: issue.number, reason, ...(failed?.failure == null ? {} : { failure: failed.failure }) }];
    },
  },
  {
    name: "retryFailure",
    reason: "an attempt failed (agent exit, crash, no commits, lost, verify, checks): run again with its failure, same worker",
    when: (issue, context) =>
      active(issue) &&
      idle(issue, context) &&
      unresolvedFailure(issue) !== null &&
      failureCount(issue) < context.run.settings.maxAttempts &&
      issueOverBudget(context.state, issue) === null,
    then: (issue, { state, run }) => {
      const failed = unresolvedFailure(issue);
      if (failed?.failure == null) return [];
      return [{ type: "Retry", issue: issue.number, attempt: failed.number, failure: failed.failure, prompt: nextPrompt(state, issue, failed, run.settings.maxAttempts) }];
    },
  },
  {
    name: "blockByWorker",
    reason: "the worker said it cannot go on: keep its instance, block it and (next) its dependents",
    // An attempt from before the operator's `retry N` no longer blocks: the retry's own attempt will say.
    when: (issue, context) => active(issue) && idle(issue, context) && lastAttempt(issue)?.end === "blocked" && (lastAttempt(issue)?.number ?? 0) > (issue.retriedAfter ?? 0),
    then: (issue) => [
      { type: "Block", issue: issue.number, by: { kind: "worker" }, reason: `the worker is blocked: ${lastAttempt(issue)?.blockedReason ?? "no reason given"}` },
    ],
  },
  {
    name: "blockOnDependency",
    reason: "a dependency failed or is blocked, so this one cannot merge; its running agent is let finish first",
    when: (issue, context) =>
      active(issue) && openAttempt(issue) === null && idle(issue, context) && settledDependency(issue, context.state.issues) !== null,
    then: (issue, { state }) => {
      const d = settledDependency(issue, state.issues) ?? 0;
      const outcome = state.issues[d]?.outcome?.kind ?? "failed";
      return [{ type: "Block", issue: issue.number, by: { kind: "dependency", issue: d }, reason: `dependency #${d} ${outcome === "failed" ? "failed" : "is blocked"}` }];
    },
  },
  {
    name: "blockOnOutsideDependency",
    reason: "a dependency outside the run is not closed, and nothing in this run will close it",
    when: (issue, context) =>
      active(issue) && openAttempt(issue) === null && idle(issue, context) && context.state.loaded && openOutside(issue, context.state.outside) !== null,
    then: (issue, { state }) => {
      const ref = openOutside(issue, state.outside) ?? "";
      const label = /^\d+$/.test(ref) ? `#${ref}` : ref;
      return [{ type: "Block", issue: issue.number, by: { kind: "outside", ref: label }, reason: `depends on ${label}, which is not in this run and not closed` }];
    },
  },
  failOnLandingMismatch,
  blockOnRedBase,
  {
    name: "warm",
    reason: "every issue's instance is made up front (also those that wait), so a launch never waits for provisioning",
    when: (issue) => active(issue) && issue.warm === "pending",
    then: (issue, { run }) => [{ type: "Warm", issue: issue.number, instance: issue.branch, base: run.settings.featureBranch }],
  },
  verifyBase,
  {
    name: "launch",
    reason: "the base-branch rule allows it (or a retry, rebase or review is due) and a slot is free, lowest number first",
    when: (issue, { launches, state }) => launches.has(issue.number) && !launchesHeld(state),
    then: (issue, { launches }) => {
      const launch = launches.get(issue.number);
      return launch === undefined ? [] : [launch];
    },
  },
  {
    name: "moveToFreeHost",
    reason: "ready to launch but its host's slots are all taken while another host has one free: made again there, to launch at once",
    when: (issue, { moves, state }) => moves.has(issue.number) && !launchesHeld(state),
    then: (issue, { moves, run }) => {
      const to = moves.get(issue.number);
      return to === undefined ? [] : [{ type: "Warm", issue: issue.number, instance: issue.branch, base: run.settings.featureBranch, to }];
    },
  },
  {
    name: "push",
    reason: "the agent reported a head the forge does not have: push it from the host, where the credentials are",
    when: (issue) => active(issue) && openAttempt(issue) === null && hasUnpushedWork(issue),
    then: (issue) => [
      {
        type: "Push",
        issue: issue.number,
        branch: issue.branch,
        headSha: issue.headSha ?? "",
        expectedSha: issue.pushedSha,
        force: issue.attempts.some((attempt) => attempt.why === "rebase" && attempt.headSha === issue.headSha),
      },
    ],
  },
  {
    name: "restack",
    reason: "its parent was squash-merged or rewritten: rebase --onto the new parent from the old parent head, pushed with lease",
    when: (issue, context) => restackDue(issue, context),
    then: (issue, { state }) => {
      const target = restackTarget(state, issue);
      if (target === null) return [];
      return [{ type: "Restack", issue: issue.number, branch: issue.branch, ...target, expectedSha: issue.pushedSha }];
    },
  },
  {
    name: "rebaseAfterRestackConflict",
    reason: "the mechanical restack hit a real conflict: the worker gets the rebase template with the paths",
    when: (issue, context) => {
      const target = restackTarget(context.state, issue);
      const conflict = issue.restackConflict;
      return (
        active(issue) &&
        idle(issue, context) &&
        target !== null &&
        conflict?.ontoSha === target.ontoSha &&
        issue.pending === null &&
        openAttempt(issue) === null &&
        unresolvedFailure(issue) === null &&
        !issue.attempts.some((attempt) => attempt.prompt.kind === "rebase" && attempt.prompt.ontoSha === target.ontoSha)
      );
    },
    then: (issue, { state }) => {
      const target = restackTarget(state, issue);
      if (target === null) return [];
      const prompt = { kind: "rebase", onto: target.onto, ontoSha: target.ontoSha, from: target.from, paths: issue.restackConflict?.paths ?? [], cause: "restack-conflict" } as const;
      return [{ type: "RequestRebase", issue: issue.number, epoch: state.epoch, prompt }];
    },
  },
  {
    name: "verify",
    reason: "a pushed head has no verify result (a stacked one sits on its parent's verified head): run verify.all and verify.e2e in the worker's container",
    when: (issue, { state, inFlightActions }) =>
      active(issue) &&
      awaitsVerify(state, issue) &&
      isQuiet(issue) &&
      issue.pending === null &&
      restackTarget(state, issue) === null &&
      parentVerified(state, issue) &&
      // One verify at a time per worker: each moves the worker's one checkout to its head, so a second (for a newer head)
      // would move it under the first, whose result would then be recorded for a head its commands did not run on.
      !inFlightActions.some((action) => action.type === "Verify" && action.issue === issue.number),
    then: (issue, { run }) => [
      { type: "Verify", issue: issue.number, instance: issue.branch, headSha: issue.pushedSha ?? "", commands: verifyCommands(run.settings) },
    ],
  },
  {
    name: "openPullRequest",
    reason: "work is on the forge and has no pull request: open one naming the issue and its dependencies",
    when: (issue, { state }) => active(issue) && hasPushedWork(issue) && issue.pullRequest === null && restackTarget(state, issue) === null,
    then: (issue) => [
      { type: "OpenPullRequest", issue: issue.number, head: issue.branch, base: issue.base ?? "", title: issue.title, dependencies: issue.dependencies },
    ],
  },
  {
    name: "retarget",
    reason: "the pull request's base is not where the branch now sits (restacked, rebased, or its parent merged)",
    when: (issue, context) => {
      const base = wantedPullRequestBase(issue, context);
      return base !== null && issue.pullRequest !== null && issue.pullRequest.base !== base;
    },
    then: (issue, context) => {
      const base = wantedPullRequestBase(issue, context);
      return base === null || issue.pullRequest === null ? [] : [{ type: "Retarget", issue: issue.number, pr: issue.pullRequest.number, base }];
    },
  },
  {
    name: "requestReview",
    reason: "coordinator.review is on and the verified head has not been reviewed: the same worker reviews it",
    when: (issue, context) =>
      context.run.settings.review &&
      active(issue) &&
      idle(issue, context) &&
      !issue.review.passed &&
      issue.review.requestedSha !== issue.pushedSha &&
      verifyPassed(context.state, issue) &&
      isQuiet(issue) &&
      issue.pending === null &&
      restackTarget(context.state, issue) === null,
    then: (issue) => [{ type: "RequestReview", issue: issue.number, headSha: issue.pushedSha ?? "", pullRequestUrl: issue.pullRequest?.url ?? null }],
  },
  {
    name: "concludeReview",
    reason: "the review attempt ended well: the review passed (its fixes are pushed and verified like any work)",
    when: (issue) => active(issue) && !issue.review.passed && reviewThatPassed(issue) !== null,
    then: (issue) => {
      const review = reviewThatPassed(issue);
      if (review === null) return [];
      return [{ type: "ConcludeReview", issue: issue.number, attempt: review.number, headSha: review.headSha, summary: review.summary ?? "" }];
    },
  },
  {
    name: "checkPullRequest",
    reason: "every gate cspace knows is met: ask the forge for checks and mergeability (again after each merge, or when pending)",
    when: (issue, context) => active(issue) && internalGateHolding(context.state, issue) === null && checkDue(issue, context),
    then: (issue, { state }) => {
      if (issue.pullRequest === null || issue.pushedSha === null) return [];
      return [
        {
          type: "CheckPullRequest",
          issue: issue.number,
          pr: issue.pullRequest.number,
          headSha: issue.pushedSha,
          epoch: state.epoch,
          after: issue.check?.at ?? null,
        },
      ];
    },
  },
  {
    name: "rebaseConflictingPullRequest",
    reason: "the forge calls the pull request conflicting with the feature branch: the worker gets the rebase template",
    when: (issue, context) =>
      active(issue) &&
      idle(issue, context) &&
      internalGateHolding(context.state, issue) === null &&
      currentCheck(context.state, issue)?.mergeability === "conflicting" &&
      issue.rebase?.epoch !== context.state.epoch,
    then: (issue, { state, run }) => {
      const paths = currentCheck(state, issue)?.conflicts ?? [];
      const prompt = { kind: "rebase", onto: run.settings.featureBranch, ontoSha: null, from: null, paths, cause: "pull-request-conflict" } as const;
      return [{ type: "RequestRebase", issue: issue.number, epoch: state.epoch, prompt }];
    },
  },
  verifyLanding,
  {
    name: "merge",
    reason: "every gate is met and it is next in the queue: record the head and the stacked parents, then squash-merge naming that head",
    when: (issue, { nextMerge }) => nextMerge === issue.number,
    then: (issue, { state }) => {
      if (issue.pullRequest === null || issue.pushedSha === null) return [];
      const stacked = Object.values(state.issues)
        .filter((child) => child.stackedOn === issue.number && !isMerged(child))
        .map((child) => ({ issue: child.number, branch: child.branch, parentSha: child.baseSha }));
      const landing = verifiesLanding(state) ? currentLanding(state, issue) : null;
      const verified = landing?.tree == null ? null : { tree: landing.tree, baseSha: landing.baseSha, epoch: landing.epoch };
      const merge: Merge = { type: "Merge", issue: issue.number, pr: issue.pullRequest.number, headSha: issue.pushedSha, title: issue.title, stacked, verified };
      return [merge];
    },
  },
  {
    name: "finishMerge",
    reason: "a merge was recorded as ready and not as done (the coordinator stopped): finish it with the recorded head",
    when: (issue) => isMerging(issue),
    then: (issue) => {
      const merge = issue.merge;
      if (merge === null) return [];
      // The tree was compared before the merge was recorded as ready; after it, the squash's tree is.
      return [{ type: "Merge", issue: issue.number, pr: merge.pr, headSha: merge.headSha, title: issue.title, stacked: merge.stacked, verified: null }];
    },
  },
  {
    name: "closeIssue",
    reason: "its pull request was squash-merged by this run",
    when: (issue) => issue.merge?.squashSha != null && !issue.issueClosed,
    then: (issue) => [{ type: "CloseIssue", issue: issue.number }],
  },
  {
    name: "deleteBranch",
    reason: "merged, and every branch stacked on it was restacked and every pull request on it retargeted",
    when: (issue, { state, inFlightActions }) =>
      issue.merge?.squashSha != null && !issue.branchDeleted && !stillBuiltOn(issue, state.issues) && !aboutToBuildOn(issue, inFlightActions),
    then: (issue) => [{ type: "DeleteBranch", issue: issue.number, branch: issue.branch, expectedSha: issue.merge?.headSha ?? null }],
  },
  {
    name: "deleteEmptyBranch",
    reason: "failed or blocked with nothing of its own ever pushed: the branch the run created at its base goes (work pushed stays, for inspection)",
    when: (issue, context) =>
      issue.outcome !== null &&
      issue.attempts.length > 0 &&
      issue.baseSha !== null &&
      // The run made the branch at its base and never pushed work of its own onto it.
      issue.pushedSha === issue.baseSha &&
      !issue.branchDeleted &&
      openAttempt(issue) === null &&
      idle(issue, context) &&
      !aboutToBuildOn(issue, context.inFlightActions) &&
      !stillBuiltOn(issue, context.state.issues),
    // With the lease of the sha it was created at: a branch someone pushed to since is left alone.
    then: (issue) => [{ type: "DeleteBranch", issue: issue.number, branch: issue.branch, expectedSha: issue.baseSha }],
  },
  predictConflictsRule,
  warnOfConflictRule,
  recordConflictMetRule,
  nudgeStalled,
  restartStalled,
  escalateStall,
];

/**
 * What an attempt that failed is followed by: while the forge calls the pull
 * request conflicting, a rebase; a rebase or review that crashed, got lost or
 * changed nothing runs again as itself; anything else (failed work, verify,
 * checks, no commits) gets the retry template with the failure.
 */
export function nextPrompt(state: CoordinatorState, issue: IssueRecord, failed: Attempt, maxAttempts: number): LaunchPrompt {
  const failure = failed.failure ?? { kind: "agent-exit", summary: "unknown failure", command: null, output: null };
  const judged = failure.kind === "verify" || failure.kind === "e2e" || failure.kind === "checks";
  const check = currentCheck(state, issue);
  if (!judged && check?.mergeability === "conflicting") {
    return { kind: "rebase", onto: state.run?.settings.featureBranch ?? "", ontoSha: null, from: null, paths: check.conflicts, cause: "pull-request-conflict" };
  }
  if (!judged && (failed.prompt.kind === "rebase" || failed.prompt.kind === "review")) return failed.prompt;
  return { kind: "retry", attempt: failureCount(issue) + 1, maxAttempts, failure };
}

function settledDependency(issue: IssueRecord, issues: Readonly<Record<number, IssueRecord>>): number | null {
  return issue.dependencies.find((d) => issues[d]?.outcome != null) ?? null;
}

/** A dependency outside the run that is not closed: a number (as text) or `owner/repo#N`. */
function openOutside(issue: IssueRecord, outside: Readonly<Record<string, string>>): string | null {
  const refs = [...issue.dependencies.map(String), ...issue.external];
  return refs.find((ref) => ref in outside && outside[ref] !== "closed") ?? null;
}

/**
 * Nothing in flight is about to start an agent on the issue or move its
 * branch. A decision that sets the next prompt, moves the branch or settles
 * the issue waits for that: otherwise the launch in flight would land on a
 * moved branch, or start an agent for a settled issue.
 */
function idle(issue: IssueRecord, { inFlightActions }: DecisionContext): boolean {
  return !inFlightActions.some((action) => (action.type === "Launch" || action.type === "Restack" || action.type === "Push") && action.issue === issue.number);
}

function restackDue(issue: IssueRecord, context: DecisionContext): boolean {
  const { state, inFlightActions } = context;
  const target = restackTarget(state, issue);
  if (target === null || !isQuiet(issue) || !idle(issue, context) || issue.pending?.kind === "rebase") return false;
  if (issue.restackConflict?.ontoSha === target.ontoSha) return false;
  // A launch stacking on this branch records its base sha: it must see the branch before or after the move, not during.
  return !inFlightActions.some((action) => action.type === "Launch" && action.base === issue.branch);
}

/** Where the pull request should point, once the branch has moved; null while it has yet to move. */
function wantedPullRequestBase(issue: IssueRecord, { state, run }: DecisionContext): string | null {
  if (issue.pullRequest === null || isMerged(issue) || isMerging(issue)) return null;
  const parent = issue.stackedOn === null ? undefined : state.issues[issue.stackedOn];
  // A settled branch is not moved any more, but its pull request must leave a merged parent before that branch is deleted.
  if (isSettled(issue)) return parent !== undefined && isMerged(parent) ? run.settings.featureBranch : null;
  if (restackTarget(state, issue) !== null || issue.base === null) return null;
  return issue.base;
}

function reviewThatPassed(issue: IssueRecord): Attempt | null {
  const last = lastAttempt(issue);
  // A review the operator's reset stopped reviewed work that is gone.
  if (last === null || last.number <= (issue.retriedAfter ?? 0)) return null;
  return last.why === "review" && last.end === "succeeded" && last.failure === null ? last : null;
}

function checkDue(issue: IssueRecord, { state, now }: DecisionContext): boolean {
  const check = currentCheck(state, issue);
  if (check === null) return true;
  const waiting = check.checks === "pending" || check.mergeability === "unknown";
  return waiting && now - Date.parse(check.at) >= PULL_REQUEST_POLL_MS;
}

/** A launch, pull request, retarget or restack in flight names the branch as its base: it may land after the state says nothing does. */
function aboutToBuildOn(issue: IssueRecord, inFlight: readonly Action[]): boolean {
  return inFlight.some(
    (action) =>
      ((action.type === "Launch" || action.type === "OpenPullRequest" || action.type === "Retarget") && action.base === issue.branch) ||
      (action.type === "Restack" && action.onto === issue.branch),
  );
}

/** Some unsettled branch still sits on it, or some open pull request still targets it. */
function stillBuiltOn(issue: IssueRecord, issues: Readonly<Record<number, IssueRecord>>): boolean {
  return Object.values(issues).some(
    (other) =>
      (other.stackedOn === issue.number && !isSettled(other)) ||
      (other.pullRequest?.base === issue.branch && !isMerged(other)),
  );
}
