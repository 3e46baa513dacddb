import type { WorkerReport } from "../agents/worker-status.ts";
import type { ChecksState, Mergeability } from "../forge/port.ts";
import type { IssueState } from "../issues/issue.ts";
import type {
  AttemptWhy,
  BlockedBy,
  Failure,
  GraphSnapshot,
  LaunchPrompt,
  RunSettings,
  StackedParent,
} from "./vocabulary.ts";

/**
 * The run's log: every observation of the world and every decision, in the
 * order they were made durable. The state is a fold over them (state.ts), so
 * `cspace status`, the dashboard and the report all read the same truth.
 *
 * Two kinds, told apart by who records them:
 * - observations, recorded by the runtime after it acted or heard something
 *   (`Launched`, `Reported`, `Pushed`, `Merged`, `RestackConflicted`, …);
 * - decisions, recorded when the runtime executes a decision-only action
 *   (`Retried`, `Failed`, `Blocked`, `RebaseRequested`, `ReviewRequested`,
 *   `Reviewed`, `RunFinished`: see `decisionEvent` in actions.ts).
 * Operator commands (`Paused`, `Resumed`, `Skipped`) are recorded as given,
 * and so is what a worker says with `cspace send _coordinator` (`WorkerMessaged`).
 *
 * Each event is plain JSON with a `type` and `at` (ISO 8601, when it was
 * recorded); the store adds the sequence number. Applying an event twice, or
 * one that no longer fits (a report for an attempt already ended), changes
 * nothing, so a resent report or a replayed outbox is harmless.
 */
export type CoordinatorEvent =
  | RunStarted
  | IssuesLoaded
  | Warmed
  | WarmFailed
  | Launched
  | Reported
  | RateLimited
  | WorkerLost
  | Pushed
  | Verified
  | VerifyFailed
  | PullRequestOpened
  | PullRequestChecked
  | ReviewRequested
  | Reviewed
  | MergeReady
  | Merged
  | MergeRefused
  | IssueClosed
  | Restacked
  | RestackConflicted
  | Retargeted
  | BranchDeleted
  | RebaseRequested
  | Retried
  | Failed
  | Blocked
  | Paused
  | Resumed
  | Skipped
  | WorkerMessaged
  | RunFinished;

export type CoordinatorEventType = CoordinatorEvent["type"];

interface EventBase {
  /** ISO 8601. */
  readonly at: string;
}

/** The run begins: what it is about, fixed for its life. A second one in a log is ignored. */
export interface RunStarted extends EventBase {
  readonly type: "RunStarted";
  readonly runId: string;
  /** The selected issues, ascending. The graph may name more (their dependencies). */
  readonly selected: readonly number[];
  readonly graph: GraphSnapshot;
  readonly settings: RunSettings;
}

/** What the forge says about the graph's issues; first right after `RunStarted`, again on each resume. */
export interface IssuesLoaded extends EventBase {
  readonly type: "IssuesLoaded";
  readonly issues: readonly { readonly number: number; readonly title: string; readonly state: IssueState; readonly url: string | null }[];
  /** Other repositories' issues the graph names, `owner/repo#N`; one left out is unknown and counts as open. */
  readonly external: readonly { readonly ref: string; readonly state: IssueState }[];
}

export interface Warmed extends EventBase {
  readonly type: "Warmed";
  readonly issue: number;
  readonly instance: string;
}

/** The instance could not be made: the issue fails, the run goes on. */
export interface WarmFailed extends EventBase {
  readonly type: "WarmFailed";
  readonly issue: number;
  readonly instance: string;
  readonly error: string;
}

/** An agent started (or was sent a new prompt in its session): attempt `attempt` of the issue, numbered from 1 without gaps. */
export interface Launched extends EventBase {
  readonly type: "Launched";
  readonly issue: number;
  readonly attempt: number;
  readonly why: AttemptWhy;
  readonly prompt: LaunchPrompt;
  /** The branch `issue-N` started from (initial), or sits on now (later attempts). */
  readonly base: string;
  /** The base's sha when `issue-N` was created from it; null for later attempts. */
  readonly baseSha: string | null;
  /** `issue-N`'s head as the agent starts. */
  readonly headSha: string | null;
}

/** The worker's supervisor reported the agent's exit, for the attempt the runtime matched it to. */
export interface Reported extends EventBase {
  readonly type: "Reported";
  readonly issue: number;
  readonly attempt: number;
  readonly report: WorkerReport;
}

/** The agent hit a usage limit: its attempt ends without counting as a failure, and the same prompt is sent again after `until`. */
export interface RateLimited extends EventBase {
  readonly type: "RateLimited";
  readonly issue: number;
  readonly attempt: number;
  /** ISO 8601. */
  readonly until: string;
}

/** The container or its supervisor is gone. An open attempt ends as a failure (kind `lost`); the instance is warmed again. */
export interface WorkerLost extends EventBase {
  readonly type: "WorkerLost";
  readonly issue: number;
  /** The attempt that was running, or null when none was. */
  readonly attempt: number | null;
  readonly reason: string;
}

/** `issue-N` on the forge is at `headSha`, pushed from the host. */
export interface Pushed extends EventBase {
  readonly type: "Pushed";
  readonly issue: number;
  readonly headSha: string;
  /** The push replaced history (after a rebase): branches stacked on this one must be restacked. */
  readonly forced: boolean;
}

export interface Verified extends EventBase {
  readonly type: "Verified";
  readonly issue: number;
  readonly headSha: string;
}

export interface VerifyFailed extends EventBase {
  readonly type: "VerifyFailed";
  readonly issue: number;
  readonly headSha: string;
  /** `verify.all` or `verify.e2e`, whichever failed. */
  readonly command: string;
  readonly exitCode: number | null;
  /** The last lines of its output. */
  readonly outputTail: string;
}

export interface PullRequestOpened extends EventBase {
  readonly type: "PullRequestOpened";
  readonly issue: number;
  readonly pr: number;
  readonly url: string;
  readonly base: string;
  readonly headSha: string;
}

/** What the forge says about a pull request's head: checks and mergeability, observed after `epoch` merges of this run. */
export interface PullRequestChecked extends EventBase {
  readonly type: "PullRequestChecked";
  readonly issue: number;
  readonly pr: number;
  readonly headSha: string;
  readonly epoch: number;
  readonly mergeability: Mergeability;
  readonly checks: ChecksState;
  /** Checks that failed or are pending. */
  readonly details: readonly string[];
  /** Paths in conflict, when the forge knows them. */
  readonly conflicts: readonly string[];
}

/** Decision: the verified head is to be reviewed by the same worker. */
export interface ReviewRequested extends EventBase {
  readonly type: "ReviewRequested";
  readonly issue: number;
  readonly headSha: string;
  readonly pullRequestUrl: string | null;
}

/** Decision: the review attempt ended well; its head (with any fixes it made) may merge once verified. */
export interface Reviewed extends EventBase {
  readonly type: "Reviewed";
  readonly issue: number;
  readonly attempt: number;
  readonly headSha: string | null;
  readonly summary: string;
}

/** Written by the runtime just before it squash-merges: the head it will name, and what is stacked on it. */
export interface MergeReady extends EventBase {
  readonly type: "MergeReady";
  readonly issue: number;
  readonly pr: number;
  readonly headSha: string;
  readonly stacked: readonly StackedParent[];
}

export interface Merged extends EventBase {
  readonly type: "Merged";
  readonly issue: number;
  readonly pr: number;
  readonly headSha: string;
  readonly squashSha: string;
}

/**
 * The forge refused the squash merge. `conflicting` and `checks` lead to a
 * rebase or a retry; `head-moved` (someone else pushed) and `closed` (someone
 * closed the pull request) fail the issue rather than overwrite a person's work.
 */
export interface MergeRefused extends EventBase {
  readonly type: "MergeRefused";
  readonly issue: number;
  readonly pr: number;
  readonly headSha: string;
  readonly reason: "conflicting" | "checks" | "head-moved" | "closed";
  readonly detail: string;
  readonly conflicts: readonly string[];
}

export interface IssueClosed extends EventBase {
  readonly type: "IssueClosed";
  readonly issue: number;
}

/** `git rebase --onto <ontoSha> <from> issue-N` went through and was pushed with lease. */
export interface Restacked extends EventBase {
  readonly type: "Restacked";
  readonly issue: number;
  /** The branch `issue-N` now sits on. */
  readonly onto: string;
  readonly ontoSha: string;
  readonly from: string | null;
  readonly headSha: string;
}

/** The restack stopped on a conflict and was aborted: nothing was pushed, no rebase is left in progress. */
export interface RestackConflicted extends EventBase {
  readonly type: "RestackConflicted";
  readonly issue: number;
  readonly onto: string;
  readonly ontoSha: string;
  readonly from: string | null;
  readonly paths: readonly string[];
}

export interface Retargeted extends EventBase {
  readonly type: "Retargeted";
  readonly issue: number;
  readonly pr: number;
  readonly base: string;
}

export interface BranchDeleted extends EventBase {
  readonly type: "BranchDeleted";
  readonly issue: number;
  readonly branch: string;
}

/** Decision: the worker is to rebase, with the rebase template; `epoch` is the merges so far when asked. */
export interface RebaseRequested extends EventBase {
  readonly type: "RebaseRequested";
  readonly issue: number;
  readonly epoch: number;
  readonly prompt: Extract<LaunchPrompt, { kind: "rebase" }>;
}

/** Decision: attempt `attempt` failed and the issue runs again with `prompt`. */
export interface Retried extends EventBase {
  readonly type: "Retried";
  readonly issue: number;
  readonly attempt: number;
  readonly failure: Failure;
  readonly prompt: LaunchPrompt;
}

/** Decision: the issue ends failed; its instance is kept for inspection. */
export interface Failed extends EventBase {
  readonly type: "Failed";
  readonly issue: number;
  readonly reason: string;
}

/** Decision: the issue ends blocked; its instance is kept. */
export interface Blocked extends EventBase {
  readonly type: "Blocked";
  readonly issue: number;
  readonly by: BlockedBy;
  readonly reason: string;
}

/** Operator: hold launches and merges, for one issue or (null) the whole run. Work already running goes on. */
export interface Paused extends EventBase {
  readonly type: "Paused";
  readonly issue: number | null;
}

export interface Resumed extends EventBase {
  readonly type: "Resumed";
  readonly issue: number | null;
}

/** Operator: give up on an issue; it ends blocked by the operator, and so do its dependents. */
export interface Skipped extends EventBase {
  readonly type: "Skipped";
  readonly issue: number;
  readonly reason: string;
}

/** A worker's `cspace send _coordinator "<text>"`, known by the socket it came on. Shown to people; changes no decision. */
export interface WorkerMessaged extends EventBase {
  readonly type: "WorkerMessaged";
  readonly issue: number;
  readonly text: string;
}

export interface RunFinished extends EventBase {
  readonly type: "RunFinished";
  readonly exitCode: 0 | 1;
}
