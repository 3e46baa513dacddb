import type { ChecksState, Mergeability } from "../forge/port.ts";
import { eventEntry, type CoordinatorEvent } from "./events.ts";
import type { PredictionsState } from "./predictions.ts";
import type { StallCounts, StallState } from "./stalls.ts";
import { withStatuses } from "./status.ts";
import { initialState } from "./initial-state.ts";
import type { AttemptWhy, BlockedBy, Failure, LaunchPrompt, RunSettings, StackedParent, TrainCar } from "./vocabulary.ts";

/**
 * The coordinator's state: a fold over its events (`apply`), plain JSON, so
 * replaying a log gives the same state and any view can be built from it.
 * It holds facts (attempts, shas, pull requests, merges); each issue's
 * `status` is derived from them after every event (status.ts), never set by
 * hand, so it cannot disagree with them.
 */
export interface CoordinatorState {
  /** Null until `RunStarted`. */
  readonly run: RunInfo | null;
  /** The selected issues, by number. */
  readonly issues: Readonly<Record<number, IssueRecord>>;
  /**
   * Dependencies outside the run: graph issues that were not selected (by
   * number) and other repositories' issues (`owner/repo#N`). Only `closed`
   * counts as merged.
   */
  readonly outside: Readonly<Record<string, OutsideState>>;
  /** An `IssuesLoaded` was applied: titles and states are known, work may begin. */
  readonly loaded: boolean;
  /** The operator paused the whole run. */
  readonly paused: boolean;
  /** The agent's account hit a usage limit: launches wait for its reset (usage-limits.ts); null when not parked. */
  readonly parked: AccountPark | null;
  /** Milliseconds the account was parked in parks that have ended. */
  readonly parkedMs: number;
  /** The spending ceilings in force (`coordinator.budget`, re-read on resume): `BudgetSet`. */
  readonly budget: Budget;
  /** Squash merges made by this run so far; a pull request observation from an earlier epoch is stale. */
  readonly epoch: number;
  readonly finished: {
    readonly at: string;
    readonly exitCode: 0 | 1;
    /** Why the run was given up before it ended on its own (`cspace coordinate --abandon`, a start that failed); null otherwise. */
    readonly abandoned: string | null;
  } | null;
  readonly lastEventAt: string | null;
  /**
   * The feature branch's tip verified alone, by epoch (merges so far): at most once per tip (fold-verification.ts).
   * Absent: none yet.
   */
  readonly tips?: Readonly<Record<number, TipVerdict>>;
  /** A squash commit's tree was not the verified one: cspace merges nothing more (fold-verification.ts). */
  readonly landingMismatch?: LandingMismatch;
  /** What this run merged, in order: the merge at index i moved the feature branch from epoch i to i + 1. Absent: none yet. */
  readonly landed?: readonly TrainCar[];
  /** Conflicts seen coming and met (predictions.ts, fold-predictions.ts); absent until the first such event. */
  readonly predictions?: PredictionsState;
  /** The parent issue whose sub-issues the run takes (`--parent`, fold-parent.ts); absent: none. */
  readonly parent?: number;
}

/** The feature branch alone, verified at its tip after `epoch` merges. */
export interface TipVerdict {
  readonly epoch: number;
  readonly sha: string;
  readonly passed: boolean;
  readonly command: string | null;
  readonly exitCode: number | null;
  readonly outputTail: string | null;
}

export interface LandingMismatch {
  readonly issue: number;
  readonly squashSha: string;
  readonly squashTree: string;
  readonly verifiedTree: string;
}

/**
 * The verification of the tree that would land: the pull request's head
 * merged into the feature branch's tip after `epoch` merges
 * (`git merge-tree --write-tree`), checked out in the issue's worker.
 */
export interface LandingRecord {
  readonly epoch: number;
  readonly headSha: string;
  readonly baseSha: string;
  /**
   * The cars ahead of it in the merge train (rules-verification.ts): their heads were merged onto `baseSha`, in order,
   * before this head. The verification is for this issue's merge once exactly they have merged. Absent: none.
   */
  readonly ahead?: readonly TrainCar[];
  /** The merged tree (null: it conflicted). */
  readonly tree: string | null;
  /** The paths that conflicted (absent: none, or a log from before trains). */
  readonly conflicts?: readonly string[];
  readonly result: "passed" | "failed" | "conflicted";
  readonly command: string | null;
  readonly exitCode: number | null;
  readonly outputTail: string | null;
  /** The merges since the branch's base (titles and `--stat`), for the retry prompt. */
  readonly underneath: string | null;
  /** The failure was counted against the branch (the branch alone and the tip alone pass). */
  readonly blamed: boolean;
}

export type OutsideState = "open" | "closed" | "unknown";

export interface AccountPark {
  /** Whose limit it is (usage-limits.ts `accountName`). */
  readonly account: string;
  /** When the first limit of this park was met. */
  readonly since: string;
  /** When one launch may probe the account again: the reset plus a margin. */
  readonly until: string;
  /** The reset the agent announced; null when it did not say. */
  readonly resetsAt: string | null;
  readonly message: string | null;
  /** The launch that probes the account after `until`; the park ends when it reports without the limit. */
  readonly probe: { readonly issue: number; readonly attempt: number } | null;
}

/** US dollars; null: no ceiling. */
export interface Budget {
  readonly run: number | null;
  readonly issue: number | null;
}

export interface RunInfo {
  readonly runId: string;
  readonly startedAt: string;
  /** The selected issues, ascending. */
  readonly selected: readonly number[];
  /** The selected issues in dependency order, then by number: the order merges go in. */
  readonly order: readonly number[];
  readonly settings: RunSettings;
}

export type IssueStatusKind =
  | "waiting"
  | "warming"
  | "ready"
  | "working"
  | "verifying"
  | "reviewing"
  | "pr-open"
  | "merging"
  | "merged"
  | "rebasing"
  | "failed"
  | "blocked"
  | "rate-limited";

export interface IssueStatus {
  readonly kind: IssueStatusKind;
  /** One line for people: "waiting on #11, #12", "verify failed: npm test exited 1; retry 2 of 3 waits for a slot". */
  readonly reason: string;
  /** What it waits on: issue numbers or `owner/repo#N` (waiting), or the merge gate holding it (pr-open). */
  readonly waitingOn: readonly (number | string)[];
  /** When a rate limit ends (ISO 8601); null otherwise. */
  readonly until: string | null;
}

/** How an attempt ended. */
export type AttemptEnd = "succeeded" | "no-commits" | "failed" | "crashed" | "lost" | "blocked" | "interrupted" | "rate-limited";

/** One run of the agent: why it started, what it cost, how it ended. */
export interface Attempt {
  /** From 1, without gaps. */
  readonly number: number;
  readonly why: AttemptWhy;
  readonly prompt: LaunchPrompt;
  readonly base: string;
  readonly startedAt: string;
  /** `issue-N`'s head as it started. */
  readonly startHead: string | null;
  readonly endedAt: string | null;
  /** Null while it runs. */
  readonly end: AttemptEnd | null;
  readonly reportId: string | null;
  readonly exitCode: number | null;
  readonly headSha: string | null;
  readonly commitsAhead: number | null;
  readonly turns: number;
  readonly costUsd: number | null;
  readonly summary: string | null;
  readonly blockedReason: string | null;
  /** Set when the attempt counts as failed: by its report, by `WorkerLost`, or when its work fails verify, checks or a rebase. */
  readonly failure: Failure | null;
  /** What was decided about the failure. */
  readonly resolution: "retried" | "failed" | null;
  /** While it runs: what its running invocation spent that no report holds yet (`Spending`, polled; fold-budget.ts). */
  readonly live?: LiveSpend | null;
  /** The end (worker's clock) of the last report counted in the attempt while it stays open (a `cspace restart`'s): figures of runs started before it are in that report. */
  readonly reportedUpTo?: string | null;
  /** Some of `costUsd` is tokens priced by `coordinator.prices`: an estimate, marked so in the report. */
  readonly costEstimated?: boolean;
}

/** A running attempt's figures not yet in a report, as its supervisor last said (`Spending`). */
export interface LiveSpend {
  /** When the run they belong to started, on the worker's clock. */
  readonly since: string;
  readonly turns: number;
  readonly costUsd: number | null;
}

export interface Verification {
  readonly headSha: string;
  readonly passed: boolean;
  readonly command: string | null;
  readonly exitCode: number | null;
  readonly outputTail: string | null;
}

export interface PullRequestRecord {
  readonly number: number;
  readonly url: string;
  readonly base: string;
}

export interface PullRequestCheck {
  readonly at: string;
  readonly headSha: string;
  readonly epoch: number;
  readonly mergeability: Mergeability;
  readonly checks: ChecksState;
  readonly details: readonly string[];
  readonly conflicts: readonly string[];
}

export interface MergeRecord {
  readonly pr: number;
  readonly headSha: string;
  readonly stacked: readonly StackedParent[];
  readonly readyAt: string;
  /** Null while the merge is under way. */
  readonly squashSha: string | null;
  readonly mergedAt: string | null;
}

export interface ActionFailures {
  readonly count: number;
  readonly error: string;
  readonly givenUp: boolean;
}

export type IssueOutcome =
  | { readonly kind: "failed"; readonly reason: string; readonly at: string }
  | { readonly kind: "blocked"; readonly by: BlockedBy; readonly reason: string; readonly at: string };

export interface IssueRecord {
  readonly number: number;
  readonly title: string;
  readonly url: string | null;
  /** `issue-N`, also the instance's name. */
  readonly branch: string;
  readonly dependencies: readonly number[];
  readonly external: readonly string[];
  /** Issues of this run that depend on it, ascending. */
  readonly dependents: readonly number[];
  readonly status: IssueStatus;
  readonly warm: "pending" | "ready" | "failed";
  readonly warmError: string | null;
  /** The worker host its instance was last made on (`Warmed`); null before, or when the run recorded none. */
  readonly host: string | null;
  /** Hosts a move to which failed (`NotMoved`): it is not moved to them again in this run. */
  readonly notMovedTo: readonly string[];
  /**
   * World actions of the issue that failed in a row, by kind (`Merge`, `CloseIssue`…): how many times, the last
   * error, and whether the runtime gave the action up. Durable, so a resumed run counts on from where the last stopped.
   */
  readonly actionFailures: Readonly<Record<string, ActionFailures>>;
  /** Launches in a row whose agent could not be started (none since the last that started), and the last reason. */
  readonly launchFailures: { readonly count: number; readonly error: string } | null;
  /** The branch `issue-N` sits on: set at the first launch, moved by restacks and rebases. */
  readonly base: string | null;
  /** The run's issue whose branch `base` is, when stacked. */
  readonly stackedOn: number | null;
  /** The sha `issue-N`'s own commits start after: the `from` of its next restack. */
  readonly baseSha: string | null;
  /** The parent's `generation` when `baseSha` was taken: a later rewrite of the parent calls for a restack. */
  readonly baseGeneration: number;
  /** How many times `issue-N`'s history was rewritten (restacked, or force-pushed after a rebase). */
  readonly generation: number;
  readonly attempts: readonly Attempt[];
  /** The prompt the next launch sends, when one was decided (retry, rebase, review, or a relaunch after a limit). */
  readonly pending: LaunchPrompt | null;
  readonly rateLimitedUntil: string | null;
  /** The newest head a worker reported, or a restack made. */
  readonly headSha: string | null;
  /** The head on the forge, as cspace last pushed it. */
  readonly pushedSha: string | null;
  readonly verification: Verification | null;
  readonly pullRequest: PullRequestRecord | null;
  /** The newest observation of the pull request. */
  readonly check: PullRequestCheck | null;
  readonly review: { readonly requestedSha: string | null; readonly passed: boolean };
  /** The last restack that stopped on a conflict, until a rebase or restack moves the branch. */
  readonly restackConflict: { readonly ontoSha: string; readonly from: string | null; readonly paths: readonly string[] } | null;
  /** The last rebase asked for: after how many merges, onto what, and the head it was asked for. */
  readonly rebase: { readonly epoch: number; readonly ontoSha: string | null; readonly headSha: string | null } | null;
  readonly merge: MergeRecord | null;
  /** A merge the forge refused for a reason cspace must not override. */
  readonly refused: { readonly reason: "head-moved" | "closed"; readonly detail: string } | null;
  readonly issueClosed: boolean;
  readonly branchDeleted: boolean;
  /** Closed on the forge before this run touched it: counts as merged. */
  readonly mergedBeforeRun: boolean;
  readonly outcome: IssueOutcome | null;
  readonly paused: boolean;
  /** `--fresh N` or the operator's `reset N` (fold-fresh.ts): the first launch discards an earlier run's `issue-N`. */
  readonly freshStart: boolean;
  /** The newest verification of the tree that would land (fold-verification.ts); absent or null: none. */
  readonly landing?: LandingRecord | null;
  /**
   * The operator's last `retry N` (fold-retry.ts): attempts up to this number came before it, so their failures no
   * longer count against `maxAttempts` (a retry gives `maxAttempts` more from then on). Absent: never retried.
   */
  readonly retriedAfter?: number;
  /** The prompt that was pending when the issue was blocked (`Blocked` clears it), given back if a `retry` unblocks it. */
  readonly pendingWhenBlocked?: LaunchPrompt | null;
  /** The open attempt's silence (stalls.ts, fold-stalls.ts); absent or for another attempt: none recorded yet. */
  readonly stall?: StallState | null;
  /** Stall steps taken over the run (nudges, restarts, escalations), for the report; absent: none. */
  readonly stalls?: StallCounts;
}


export { initialState };

/** The state after one more event. Pure: the same state and event always give the same result. */
export function apply(state: CoordinatorState, event: CoordinatorEvent): CoordinatorState {
  const next = applyFact(state, event);
  if (next === state) return state;
  return withStatuses({ ...next, lastEventAt: event.at });
}

/** The state a log leads to. */
export function replay(events: Iterable<CoordinatorEvent>, from: CoordinatorState = initialState()): CoordinatorState {
  let state = from;
  for (const event of events) state = apply(state, event);
  return state;
}

/** The registry's fold for the event's type (events.ts). */
function applyFact(state: CoordinatorState, event: CoordinatorEvent): CoordinatorState {
  const entry = eventEntry(event.type);
  // Unreachable for an event the codec decoded: it knows the types it reads.
  if (entry === undefined) return state;
  return entry.apply(state, event);
}
