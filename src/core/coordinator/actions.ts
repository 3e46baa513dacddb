import type { DependencyState } from "../plan/planner.ts";
import type { CoordinatorEvent } from "./events.ts";
import type { BlockedBy, Failure, LaunchPrompt, StackedParent, TrainCar } from "./vocabulary.ts";

/**
 * What `decide` asks for. Actions are requests: the runtime checks the world
 * before acting (the container is there, the pull request is already open
 * for this head, it is already merged) and records the outcome as events.
 * Every action has a key (`actionKey`); while one is in flight the runtime
 * passes it back to `decide`, which then neither repeats it nor gives its slot away.
 *
 * World actions go through the ports; decision actions only record a
 * decision (`decisionEvent`) so the log says why the next thing happens.
 */
export type Action = WorldAction | DecisionAction;

export type WorldAction =
  | Warm
  | Launch
  | Push
  | Verify
  | OpenPullRequest
  | CheckPullRequest
  | Merge
  | CloseIssue
  | Restack
  | Retarget
  | DeleteBranch
  | VerifyLanding
  | VerifyBase

  | PredictConflicts
  | TellWorker
  | NudgeStalled
  | RestartStalled;

export type DecisionAction = Retry | Fail | Block | RequestRebase | RequestReview | ConcludeReview | Finish | RecordConflictMet | EscalateStall;

export type ActionType = Action["type"];

/**
 * Provision (or re-validate) the instance; outcome `Warmed` or `WarmFailed`.
 * With `to`, a move: the instance is made on that host and its container on
 * the host it was on is removed (`Warmed` naming the new host), or, when that
 * host cannot make it, it stays where it is (`NotMoved`).
 */
export interface Warm {
  readonly type: "Warm";
  readonly issue: number;
  readonly instance: string;
  /** The branch the workspace is checked out from until the issue launches. */
  readonly base: string;
  /** The host to move the instance to (host-slots.ts `hostToMoveTo`); absent for the first warm and a warm after a loss. */
  readonly to?: string;
}

/** A dependency as the prompt shows it. */
export interface LaunchDependency {
  readonly number: number;
  readonly title: string;
  readonly state: DependencyState;
  /** `issue-<N>`; null for another repository's issue. */
  readonly branch: string | null;
}

/**
 * Start attempt `attempt` of the issue in instance `issue-N`: for the first,
 * create `issue-N` from `base` on the forge; render `prompt` and start the
 * agent, or send it to the live session. Outcome `Launched` (then, when the
 * agent exits, `Reported`), or `WorkerLost` when it cannot start.
 */
export interface Launch {
  readonly type: "Launch";
  readonly issue: number;
  readonly instance: string;
  readonly branch: string;
  readonly base: string;
  /** `base` is another issue's branch. */
  readonly stacked: boolean;
  readonly attempt: number;
  readonly prompt: LaunchPrompt;
  readonly dependencies: readonly LaunchDependency[];
  /**
   * A launch asked to start fresh: the first launch of an issue given `--fresh` or `reset` (an `issue-N` left by an earlier
   * run is moved back to `base`, not carried over), or the launch after the operator's `reset N` of an issue that started
   * in this run (its `issue-N` moved back to `base` the same way, and the worker's agent started anew, with no session).
   */
  readonly fresh: boolean;
}

/** Push the worker's `issue-N` at `headSha` from the host; outcome `Pushed`. */
export interface Push {
  readonly type: "Push";
  readonly issue: number;
  readonly branch: string;
  readonly headSha: string;
  /** What the forge's branch should be at now: the lease. */
  readonly expectedSha: string | null;
  /** The history was rewritten (a rebase attempt): a non-fast-forward push, still with the lease. */
  readonly force: boolean;
}

/** Run the verify commands on `headSha` inside the worker's container; outcome `Verified` or `VerifyFailed`. */
export interface Verify {
  readonly type: "Verify";
  readonly issue: number;
  readonly instance: string;
  readonly headSha: string;
  /** `verify.all` then `verify.e2e`, those set. */
  readonly commands: readonly string[];
}

/** Open (or update) the pull request of `issue-N`; outcome `PullRequestOpened`. */
export interface OpenPullRequest {
  readonly type: "OpenPullRequest";
  readonly issue: number;
  readonly head: string;
  readonly base: string;
  readonly title: string;
  /** For the body: the issue it closes and the issues it builds on. */
  readonly dependencies: readonly number[];
}

/** Ask the forge for the pull request's checks and mergeability; outcome `PullRequestChecked`. */
export interface CheckPullRequest {
  readonly type: "CheckPullRequest";
  readonly issue: number;
  readonly pr: number;
  readonly headSha: string;
  /** Merges of this run so far: an observation from before a later merge is stale. */
  readonly epoch: number;
  /** The time of the observation this one replaces (pending checks are polled); null for the first. */
  readonly after: string | null;
}

/**
 * Record `MergeReady` (this head, and each stacked branch's parent sha), then
 * squash-merge naming `headSha`; outcome `Merged` or `MergeRefused`.
 * A merge already recorded as ready is finished with the recorded values.
 */
export interface Merge {
  readonly type: "Merge";
  readonly issue: number;
  readonly pr: number;
  readonly headSha: string;
  readonly title: string;
  readonly stacked: readonly StackedParent[];
  /**
   * The verification it lands on (rules-verification.ts): its tree, and the tip and epoch it was verified on (with the
   * cars ahead of it merged); null when landings are not verified. Before merging, the runtime merges the head into
   * the tip as it is now: another tree (someone else moved the tip) is `LandingStale`, not a merge.
   */
  readonly verified: { readonly tree: string; readonly baseSha: string; readonly epoch: number } | null;
}

export interface CloseIssue {
  readonly type: "CloseIssue";
  readonly issue: number;
}

/**
 * In a host workspace: `git rebase --onto <ontoSha> <from> issue-N`, push with
 * lease `expectedSha`; on conflict abort (leave nothing half-rebased).
 * Outcome `Restacked` or `RestackConflicted` with the paths.
 */
export interface Restack {
  readonly type: "Restack";
  readonly issue: number;
  readonly branch: string;
  /** The branch it will sit on: the feature branch after its parent merged, or the rewritten parent's branch. */
  readonly onto: string;
  readonly ontoSha: string;
  /** The old parent head its own commits start after; null when unknown (the runtime then takes the merge base). */
  readonly from: string | null;
  readonly expectedSha: string | null;
  /** The issue whose merge or rewrite this follows. */
  readonly parent: number;
}

/** Point the pull request at `base`; outcome `Retargeted`. */
export interface Retarget {
  readonly type: "Retarget";
  readonly issue: number;
  readonly pr: number;
  readonly base: string;
}

/** Delete the merged `issue-N` if still at `expectedSha`; only after everything on it moved. Outcome `BranchDeleted`. */
export interface DeleteBranch {
  readonly type: "DeleteBranch";
  readonly issue: number;
  readonly branch: string;
  readonly expectedSha: string | null;
}

/**
 * Verify the tree that would land: `headSha` merged into `base`'s tip now
 * with the heads of the cars `ahead` merged first, in order (`git merge-tree
 * --write-tree` in the host's store), checked out detached in the issue's
 * worker. Outcome `LandingVerified`, `LandingFailed` (with the
 * merges since `since`, for the retry prompt) or `LandingConflicted`.
 */
export interface VerifyLanding {
  readonly type: "VerifyLanding";
  readonly issue: number;
  readonly instance: string;
  readonly headSha: string;
  /** The feature branch. */
  readonly base: string;
  /** Merges so far: the tip this verification is for. */
  readonly epoch: number;
  /** The cars ahead of it in the merge train: merged onto the tip, in order, before this head. */
  readonly ahead: readonly TrainCar[];
  /** Where the branch's own commits start (its base sha): what changed underneath is counted from it. */
  readonly since: string | null;
  readonly commands: readonly string[];
}

/** Verify `branch`'s tip alone, checked out detached in the issue's worker: once per tip. Outcome `BaseVerified`. */
export interface VerifyBase {
  readonly type: "VerifyBase";
  /** Whose worker runs it. */
  readonly issue: number;
  readonly instance: string;
  readonly branch: string;
  readonly epoch: number;
  readonly commands: readonly string[];
}

/** Decision → `Retried`. */
export interface Retry {
  readonly type: "Retry";
  readonly issue: number;
  /** The failed attempt. */
  readonly attempt: number;
  readonly failure: Failure;
  readonly prompt: LaunchPrompt;
}

/** Decision → `Failed`. */
export interface Fail {
  readonly type: "Fail";
  readonly issue: number;
  readonly reason: string;
  /** The failed attempt's failure, when an attempt's failure is what fails the issue: its progress line shows the end of the output. */
  readonly failure?: Failure | undefined;
}

/** Decision → `Blocked`. */
export interface Block {
  readonly type: "Block";
  readonly issue: number;
  readonly by: BlockedBy;
  readonly reason: string;
}

/** Decision → `RebaseRequested`. */
export interface RequestRebase {
  readonly type: "RequestRebase";
  readonly issue: number;
  readonly epoch: number;
  readonly prompt: Extract<LaunchPrompt, { kind: "rebase" }>;
}

/** Decision → `ReviewRequested`. */
export interface RequestReview {
  readonly type: "RequestReview";
  readonly issue: number;
  readonly headSha: string;
  readonly pullRequestUrl: string | null;
}

/** Decision → `Reviewed`. */
export interface ConcludeReview {
  readonly type: "ConcludeReview";
  readonly issue: number;
  readonly attempt: number;
  readonly headSha: string | null;
  readonly summary: string;
}

/** Decision → `RunFinished`. */
export interface Finish {
  readonly type: "Finish";
  readonly exitCode: 0 | 1;
}

/**
 * A prediction round (predictions.ts): read each in-flight branch (the
 * forge's, or its working agent's checkout), merge-tree every pair that will
 * meet and each branch with the feature branch; outcome `ConflictPredicted`
 * for each new conflict, then `ConflictsChecked` with `signature`. Best
 * effort: a round that cannot be made records why and is not repeated
 * before the next push or merge. `issue` is the first in-flight issue (for
 * bookkeeping only).
 */
export interface PredictConflicts {
  readonly type: "PredictConflicts";
  readonly issue: number;
  /** The inputs this round is for (`predictionSignature`). */
  readonly signature: string;
}

/** Send the working agent of `issue` a message (`text`) about the predicted conflict `key`; outcome `ConflictWarned`. */
export interface TellWorker {
  readonly type: "TellWorker";
  readonly issue: number;
  readonly instance: string;
  readonly key: string;
  readonly text: string;
}

/** Decision → `ConflictMet`: the issue met a conflict, with the predictions it proves right (none: missed). */
export interface RecordConflictMet {
  readonly type: "RecordConflictMet";
  readonly issue: number;
  readonly how: "restack" | "forge";
  readonly key: string;
  readonly paths: readonly string[];
  readonly predictedAt: string | null;
  readonly predictions: readonly string[];
}

/** A stall step (stalls.ts): what the step's event records besides what happened. */
interface StallStepAction {
  readonly issue: number;
  readonly instance: string;
  /** The open attempt that is silent. */
  readonly attempt: number;
  /** When the silence (or the step before) began: each silence and step is a new request. */
  readonly since: string;
  readonly silentMinutes: number;
}

/** Send the silent agent the `nudge` template's message (first checking it is still silent); outcome `StallNudged`, or `AgentActive`. */
export interface NudgeStalled extends StallStepAction {
  readonly type: "NudgeStalled";
}

/** Restart the silent agent's attempt with `reason` (first checking it is still silent); outcome `StallRestarted`, or `AgentActive`. */
export interface RestartStalled extends StallStepAction {
  readonly type: "RestartStalled";
  readonly reason: string;
}

/** Decision → `StallEscalated`: the silent agent needs a person. */
export interface EscalateStall extends StallStepAction {
  readonly type: "EscalateStall";
}

/**
 * Names an action for in-flight bookkeeping: two actions with one key ask for
 * the same outcome, so the runtime runs one. Keys carry what makes a request
 * new (the attempt, the head, the merges so far), never the time.
 */
export function actionKey(action: Action): string {
  switch (action.type) {
    case "Warm":
      return action.to === undefined ? `warm:${action.issue}` : `warm:${action.issue}:${action.to}`;
    case "Launch":
      return `launch:${action.issue}:${action.attempt}`;
    case "Push":
      return `push:${action.issue}:${action.headSha}`;
    case "Verify":
      return `verify:${action.issue}:${action.headSha}`;
    case "OpenPullRequest":
      return `open-pr:${action.issue}`;
    case "CheckPullRequest":
      return `check-pr:${action.issue}:${action.headSha}:${action.epoch}:${action.after ?? "-"}`;
    case "Merge":
      return `merge:${action.issue}`;
    case "CloseIssue":
      return `close:${action.issue}`;
    case "Restack":
      return `restack:${action.issue}:${action.ontoSha}:${action.from ?? "-"}`;
    case "Retarget":
      return `retarget:${action.issue}:${action.base}`;
    case "DeleteBranch":
      return `delete-branch:${action.issue}`;
    case "Retry":
      return `retry:${action.issue}:${action.attempt}`;
    case "Fail":
      return `fail:${action.issue}`;
    case "Block":
      return `block:${action.issue}`;
    case "RequestRebase":
      return `rebase:${action.issue}:${action.epoch}:${action.prompt.ontoSha ?? "-"}`;
    case "RequestReview":
      return `review:${action.issue}:${action.headSha}`;
    case "ConcludeReview":
      return `conclude-review:${action.issue}:${action.attempt}`;
    case "Finish":
      return "finish";
    case "VerifyLanding":
      return `verify-landing:${action.issue}:${action.headSha}:${action.epoch}:${action.ahead.map((car) => `${String(car.issue)}@${car.headSha}`).join(",")}`;
    case "VerifyBase":
      return `verify-base:${action.epoch}`;
    case "PredictConflicts":
      return `predict:${action.signature}`;
    case "TellWorker":
      return `tell:${action.issue}:${action.key}`;
    case "RecordConflictMet":
      return `conflict-met:${action.issue}:${action.key}`;
    case "NudgeStalled":
      return `stall-nudge:${action.issue}:${action.attempt}:${action.since}`;
    case "RestartStalled":
      return `stall-restart:${action.issue}:${action.attempt}:${action.since}`;
    case "EscalateStall":
      return `stall-escalate:${action.issue}:${action.attempt}:${action.since}`;
  }
}

/** Whether executing the action only records a decision. */
export function isDecision(action: Action): action is DecisionAction {
  switch (action.type) {
    case "Retry":
    case "Fail":
    case "Block":
    case "RequestRebase":
    case "RequestReview":
    case "ConcludeReview":
    case "Finish":
    case "RecordConflictMet":
    case "EscalateStall":
      return true;
    case "Warm":
    case "Launch":
    case "Push":
    case "Verify":
    case "OpenPullRequest":
    case "CheckPullRequest":
    case "Merge":
    case "CloseIssue":
    case "Restack":
    case "Retarget":
    case "DeleteBranch":
    case "VerifyLanding":
    case "VerifyBase":
    case "PredictConflicts":
    case "TellWorker":
    case "NudgeStalled":
    case "RestartStalled":
      return false;
  }
}

/** The event that records a decision action: executing one is appending this. */
export function decisionEvent(action: DecisionAction, at: string): CoordinatorEvent {
  switch (action.type) {
    case "Retry":
      return { type: "Retried", at, issue: action.issue, attempt: action.attempt, failure: action.failure, prompt: action.prompt };
    case "Fail":
      return { type: "Failed", at, issue: action.issue, reason: action.reason, ...(action.failure === undefined ? {} : { failure: action.failure }) };
    case "Block":
      return { type: "Blocked", at, issue: action.issue, by: action.by, reason: action.reason };
    case "RequestRebase":
      return { type: "RebaseRequested", at, issue: action.issue, epoch: action.epoch, prompt: action.prompt };
    case "RequestReview":
      return { type: "ReviewRequested", at, issue: action.issue, headSha: action.headSha, pullRequestUrl: action.pullRequestUrl };
    case "ConcludeReview":
      return { type: "Reviewed", at, issue: action.issue, attempt: action.attempt, headSha: action.headSha, summary: action.summary };
    case "Finish":
      return { type: "RunFinished", at, exitCode: action.exitCode, abandoned: null };
    case "RecordConflictMet":
      return { type: "ConflictMet", at, issue: action.issue, how: action.how, key: action.key, paths: action.paths, predictedAt: action.predictedAt, predictions: action.predictions };
    case "EscalateStall":
      return { type: "StallEscalated", at, issue: action.issue, attempt: action.attempt, silentMinutes: action.silentMinutes };
  }
}
