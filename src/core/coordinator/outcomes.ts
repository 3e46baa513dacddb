import type { ChecksState, Mergeability } from "../forge/port.ts";
import type { WorldAction } from "./actions.ts";
import type { CoordinatorEvent } from "./events.ts";
import type { LaunchStart } from "./launch-start.ts";
import type { PredictedConflict } from "./predictions.ts";
import { whyOf } from "./vocabulary.ts";

/**
 * How a world action's result is recorded: the one place that turns what
 * happened into events. The runtime's executor (services/coordinate/execute.ts)
 * learns the result from the ports, the simulated world (simulation.ts) from
 * its script; both record `outcomeEvents(action, result, at)`, so an event
 * that a result already tells (a new outcome of an existing action) is
 * added here, in its registry entry and in the rule that uses it.
 */

/** What each world action found out, by the action's type. */
export interface ActionResults {
  /** `host`: the worker host the instance was made on, when the pool says. */
  readonly Warm: { readonly ok: true; readonly host?: string | undefined } | { readonly ok: false; readonly error: string };
  /** `ok`: the agent started on `headSha` (`baseSha`: the base's head when this launch made the branch); else why it could not. */
  readonly Launch:
    | { readonly ok: true; readonly baseSha: string | null; readonly headSha: string | null; readonly start?: LaunchStart | undefined }
    | { readonly ok: false; readonly error: string };
  /** The head the forge now has. */
  readonly Push: { readonly headSha: string };
  readonly Verify: { readonly ok: true } | { readonly ok: false; readonly command: string; readonly exitCode: number | null; readonly outputTail: string };
  readonly OpenPullRequest: { readonly pr: number; readonly url: string; readonly base: string; readonly headSha: string };
  readonly CheckPullRequest: { readonly mergeability: Mergeability; readonly checks: ChecksState; readonly details: readonly string[]; readonly conflicts: readonly string[] };
  /** The pull request and head the merge was made ready with (a merge repeated after a crash keeps the recorded ones). */
  readonly Merge: { readonly pr: number; readonly headSha: string } & (
    | { readonly merged: true; readonly squashSha: string }
    | { readonly merged: false; readonly reason: "conflicting" | "checks" | "head-moved" | "closed"; readonly detail: string; readonly conflicts: readonly string[] }
  );
  readonly CloseIssue: null;
  readonly Restack: { readonly ok: true; readonly headSha: string } | { readonly ok: false; readonly paths: readonly string[] };
  readonly Retarget: null;
  readonly DeleteBranch: null;
  /** The tip it was merged into, and the merged tree's verify result (or the paths that conflict). */
  readonly VerifyLanding:
    | { readonly ok: true; readonly baseSha: string; readonly tree: string; readonly branchTree?: boolean }
    | { readonly ok: false; readonly baseSha: string; readonly tree: string; readonly command: string; readonly exitCode: number | null; readonly outputTail: string; readonly underneath: string }
    | { readonly ok: "conflict"; readonly baseSha: string; readonly paths: readonly string[] };
  readonly VerifyBase: { readonly baseSha: string } & ({ readonly ok: true } | { readonly ok: false; readonly command: string; readonly exitCode: number | null; readonly outputTail: string });
  /** The conflicts a prediction round found that were not predicted before, every conflict it found (keys), and its cost; `error`: why it was not made. */
  readonly PredictConflicts: {
    readonly found: readonly FoundConflict[];
    readonly current: readonly string[];
    readonly pairs: number;
    readonly ms: number;
    readonly error: string | null;
  };
  /** Whether the worker's supervisor took the message. */
  readonly TellWorker: { readonly delivered: true } | { readonly delivered: false; readonly error: string };
  /**
   * A stall step: `active` when the agent turned out not to be silent (the step is not taken: `AgentActive`);
   * else whether the message was taken (nudge) or the restart went through (`error`: why not).
   */
  readonly NudgeStalled: { readonly active: true } | { readonly active: false; readonly lastEvent: string | null; readonly error: string | null };
  readonly RestartStalled: { readonly active: true } | { readonly active: false; readonly error: string | null };
}

/** A conflict a prediction round found (predictions.ts `PredictedConflict`, before it is recorded). */
export type FoundConflict = Omit<PredictedConflict, "at" | "told">;

export type WorldActionType = WorldAction["type"];
export type ActionResult<K extends WorldActionType> = ActionResults[K];
type ActionOf<K extends WorldActionType> = Extract<WorldAction, { readonly type: K }>;
type Recorder<K extends WorldActionType> = (action: ActionOf<K>, result: ActionResults[K], at: string) => CoordinatorEvent[];

const recorders: { readonly [K in WorldActionType]: Recorder<K> } = {
  Warm: (action, result, at) => [
    result.ok
      ? { type: "Warmed", at, issue: action.issue, instance: action.instance, ...(result.host === undefined ? {} : { host: result.host }) }
      : action.to === undefined
        ? { type: "WarmFailed", at, issue: action.issue, instance: action.instance, error: result.error }
        : // A move that did not happen leaves the instance where it was: the issue waits there, as before.
          { type: "NotMoved", at, issue: action.issue, instance: action.instance, to: action.to, error: result.error },
  ],
  Launch: (action, result, at) => [
    result.ok
      ? { type: "Launched", at, issue: action.issue, attempt: action.attempt, why: whyOf(action.prompt), prompt: action.prompt, base: action.base, baseSha: result.baseSha, headSha: result.headSha, ...(result.start === undefined ? {} : { start: result.start }) }
      : { type: "WorkerLost", at, issue: action.issue, attempt: null, reason: `the agent could not be started: ${result.error}` },
  ],
  Push: (action, result, at) => [{ type: "Pushed", at, issue: action.issue, headSha: result.headSha, forced: action.force }],
  Verify: (action, result, at) => [
    result.ok
      ? { type: "Verified", at, issue: action.issue, headSha: action.headSha }
      : { type: "VerifyFailed", at, issue: action.issue, headSha: action.headSha, command: result.command, exitCode: result.exitCode, outputTail: result.outputTail },
  ],
  OpenPullRequest: (action, result, at) => [{ type: "PullRequestOpened", at, issue: action.issue, pr: result.pr, url: result.url, base: result.base, headSha: result.headSha }],
  CheckPullRequest: (action, result, at) => [
    { type: "PullRequestChecked", at, issue: action.issue, pr: action.pr, headSha: action.headSha, epoch: action.epoch, ...result },
  ],
  Merge: (action, result, at) => [
    result.merged
      ? { type: "Merged", at, issue: action.issue, pr: result.pr, headSha: result.headSha, squashSha: result.squashSha }
      : { type: "MergeRefused", at, issue: action.issue, pr: result.pr, headSha: result.headSha, reason: result.reason, detail: result.detail, conflicts: result.conflicts },
  ],
  CloseIssue: (action, _result, at) => [{ type: "IssueClosed", at, issue: action.issue }],
  Restack: (action, result, at) => [
    result.ok
      ? { type: "Restacked", at, issue: action.issue, onto: action.onto, ontoSha: action.ontoSha, from: action.from, headSha: result.headSha }
      : { type: "RestackConflicted", at, issue: action.issue, onto: action.onto, ontoSha: action.ontoSha, from: action.from, paths: result.paths },
  ],
  Retarget: (action, _result, at) => [{ type: "Retargeted", at, issue: action.issue, pr: action.pr, base: action.base }],
  DeleteBranch: (action, _result, at) => [{ type: "BranchDeleted", at, issue: action.issue, branch: action.branch }],
  VerifyLanding: (action, result, at) => {
    const fields = { at, issue: action.issue, headSha: action.headSha, epoch: action.epoch, baseSha: result.baseSha, ...(action.ahead.length > 0 ? { ahead: action.ahead } : {}) };
    if (result.ok === "conflict") return [{ type: "LandingConflicted", ...fields, paths: result.paths }];
    if (result.ok) return [{ type: "LandingVerified", ...fields, tree: result.tree, ...(result.branchTree === true ? { branchTree: true } : {}) }];
    return [{ type: "LandingFailed", ...fields, tree: result.tree, command: result.command, exitCode: result.exitCode, outputTail: result.outputTail, underneath: result.underneath }];
  },
  VerifyBase: (action, result, at) => [
    result.ok
      ? { type: "BaseVerified", at, epoch: action.epoch, branch: action.branch, baseSha: result.baseSha, passed: true, command: null, exitCode: null, outputTail: null }
      : { type: "BaseVerified", at, epoch: action.epoch, branch: action.branch, baseSha: result.baseSha, passed: false, command: result.command, exitCode: result.exitCode, outputTail: result.outputTail },
  ],
  PredictConflicts: (action, result, at) => [
    ...result.found.map((conflict): CoordinatorEvent => ({ type: "ConflictPredicted", at, ...conflict })),
    { type: "ConflictsChecked", at, signature: action.signature, pairs: result.pairs, ms: Math.round(result.ms), current: result.current, error: result.error },
  ],
  TellWorker: (action, result, at) => [
    { type: "ConflictWarned", at, issue: action.issue, key: action.key, delivered: result.delivered, error: result.delivered ? null : result.error },
  ],
  NudgeStalled: (action, result, at) => [
    result.active
      ? { type: "AgentActive", at, issue: action.issue, attempt: action.attempt }
      : { type: "StallNudged", at, issue: action.issue, attempt: action.attempt, silentMinutes: action.silentMinutes, lastEvent: result.lastEvent, delivered: result.error === null, error: result.error },
  ],
  RestartStalled: (action, result, at) => [
    result.active
      ? { type: "AgentActive", at, issue: action.issue, attempt: action.attempt }
      : { type: "StallRestarted", at, issue: action.issue, attempt: action.attempt, silentMinutes: action.silentMinutes, reason: action.reason, error: result.error },
  ],
};

/** The events that record what the action found out. */
export function outcomeEvents<K extends WorldActionType>(action: ActionOf<K>, result: ActionResults[K], at: string): CoordinatorEvent[] {
  const record = recorders[action.type] as Recorder<K>;
  return record(action, result, at);
}

/**
 * A merge's first step, durable before the base moves: the head it merges and each stacked branch's
 * parent sha, so a restack after a crash knows where each branch began.
 */
export function mergeReadyEvent(action: ActionOf<"Merge">, ready: { readonly pr: number; readonly headSha: string }, at: string): CoordinatorEvent {
  return { type: "MergeReady", at, issue: action.issue, pr: ready.pr, headSha: ready.headSha, stacked: action.stacked };
}
