import type { Action } from "./actions.ts";
import { issueOverBudget } from "./budget.ts";
import type { CoordinatorEvent } from "./events.ts";
import { blockedBehind, retryable } from "./fold-retry.ts";
import { isMerged, isMerging, isSettled, lastAttempt, openAttempt } from "./queries.ts";
import type { CoordinatorState, IssueRecord } from "./state.ts";
import type { Failure, LaunchPrompt } from "./vocabulary.ts";

/**
 * What a person can tell a running coordinator with `cspace send
 * _coordinator "<command>"` on the host. Each becomes one event in the log
 * (design: operator commands are events, safe to repeat): pausing what is
 * paused changes nothing.
 */
export type OperatorCommand =
  | { readonly kind: "pause"; readonly issue: number | null }
  | { readonly kind: "resume"; readonly issue: number | null }
  | { readonly kind: "skip"; readonly issue: number; readonly reason: string }
  | { readonly kind: "reset"; readonly issue: number }
  | { readonly kind: "retry"; readonly issue: number };

export const OPERATOR_USAGE = [
  "pause            hold launches and merges for the whole run (agents already working go on)",
  "pause <N>        hold issue N",
  "resume           lift a run-wide pause",
  "resume <N>       lift issue N's pause",
  "skip <N> [why]   give up on issue N: it ends blocked by you, and so do its dependents",
  "reset <N>        discard issue N's branch and start it again from its base, as a first attempt (and maxAttempts more): a failed, blocked (by its worker) or skipped issue, or one working (its agent is stopped); before N starts, the issue-N an earlier run left",
  "retry <N>        a failed, blocked (by its worker) or skipped issue gets a fresh attempt, and maxAttempts more; its dependents are unblocked",
].join("\n");

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

export function parseOperatorCommand(text: string): Parsed<OperatorCommand> {
  const [verb = "", target, ...rest] = text.trim().split(/\s+/);
  const issue = target === undefined ? null : issueNumber(target);
  switch (verb.toLowerCase()) {
    case "pause":
    case "resume": {
      if (rest.length > 0 || (target !== undefined && issue === null)) return bad(`${verb} takes at most an issue number, like "${verb} 12"`);
      return { ok: true, value: { kind: verb.toLowerCase() as "pause" | "resume", issue } };
    }
    case "skip": {
      if (issue === null) return bad('skip needs an issue number, like "skip 12 the schema is not decided"');
      return { ok: true, value: { kind: "skip", issue, reason: rest.join(" ") || "skipped by the operator" } };
    }
    case "reset": {
      if (issue === null || rest.length > 0) return bad('reset takes one issue number, like "reset 12"');
      return { ok: true, value: { kind: "reset", issue } };
    }
    case "retry": {
      if (issue === null || rest.length > 0) return bad('retry takes one issue number, like "retry 12"');
      return { ok: true, value: { kind: "retry", issue } };
    }
    default:
      return bad(`"${text.trim().slice(0, 60)}" is not a coordinator command`);
  }
}

/**
 * The event a command records in this state, or why it cannot apply (an issue not in the run, one already merged).
 * `inFlight`: the world actions the runtime is executing (a reset waits for a branch being moved, and leaves a merge
 * or a merge-train verification alone).
 */
export function operatorEvent(state: CoordinatorState, command: OperatorCommand, at: string, inFlight: readonly Action[] = []): Parsed<CoordinatorEvent> {
  if (command.issue !== null) {
    const record = state.issues[command.issue];
    if (record === undefined) {
      const inRun = Object.keys(state.issues).map((n) => `#${n}`).join(", ");
      return bad(`#${String(command.issue)} is not in this run (${inRun})`);
    }
    if (command.kind === "skip" && isMerged(record)) return bad(`#${String(command.issue)} is merged already: there is nothing to skip`);
    if (command.kind === "reset") {
      const refusal = record.attempts.length === 0 ? freshStartRefusal(record) : resetRefusal(state, record, inFlight);
      if (refusal !== null) return bad(refusal);
    }
    if (command.kind === "retry") {
      const refusal = retryRefusal(state, record);
      if (refusal !== null) return bad(refusal);
    }
  }
  switch (command.kind) {
    case "pause":
      return { ok: true, value: { type: "Paused", at, issue: command.issue } };
    case "resume":
      return { ok: true, value: { type: "Resumed", at, issue: command.issue } };
    case "skip":
      return { ok: true, value: { type: "Skipped", at, issue: command.issue, reason: command.reason } };
    case "reset": {
      const record = state.issues[command.issue];
      if (record === undefined || record.attempts.length === 0) return { ok: true, value: { type: "FreshStartRequested", at, issue: command.issue, by: "operator" } };
      return { ok: true, value: { type: "ResetRequested", at, issue: command.issue, attempt: openAttempt(record)?.number ?? null, unblocks: blockedBehind(state, command.issue) } };
    }
    case "retry": {
      const record = state.issues[command.issue];
      const prompt = record === undefined ? null : retryPrompt(state, record);
      return { ok: true, value: { type: "RetryRequested", at, issue: command.issue, prompt, unblocks: blockedBehind(state, command.issue) } };
    }
  }
}

/**
 * Why `retry N` cannot apply, in words that say what the issue is doing and
 * what to do instead; null when it can. Only an issue that failed, or that
 * its worker or the operator stopped, is retried; and only when a fresh
 * attempt could run at all (otherwise the same rule would stop it again at once).
 */
function retryRefusal(state: CoordinatorState, record: IssueRecord): string | null {
  const n = `#${String(record.number)}`;
  if (isMerged(record)) return `${n} is merged: nothing to retry`;
  const open = openAttempt(record);
  if (record.outcome === null) {
    const what = open === null ? `(${record.status.reason})` : `(attempt ${String(open.number)})`;
    return `${n} is ${record.status.kind} ${what}: nothing to retry`;
  }
  return restartRefusal(state, record, "retry");
}

/**
 * Why an issue that ended (failed, or blocked) cannot be started again by `verb` (`retry` or `reset`), or why no
 * attempt could run at all if it were (the same rule would stop it again at once); null when it can.
 */
function restartRefusal(state: CoordinatorState, record: IssueRecord, verb: "retry" | "reset"): string | null {
  const n = `#${String(record.number)}`;
  const outcome = record.outcome;
  if (outcome !== null) {
    if (outcome.kind === "blocked" && outcome.by.kind === "dependency") return `${n} is blocked because #${String(outcome.by.issue)} is: ${verb} ${String(outcome.by.issue)} instead, and ${n} follows it`;
    if (outcome.kind === "blocked" && outcome.by.kind === "outside") return `${n} waits on ${outcome.by.ref}, which is not in this run: close it, then run cspace coordinate again`;
    if (outcome.kind === "blocked" && outcome.by.kind === "base") return `${n} is blocked by the red feature branch (${outcome.reason}): fix the feature branch first; ${verb === "retry" ? "retrying" : "resetting"} ${n} cannot help`;
    if (!retryable(record)) return `${n} ${outcome.reason}: nothing to ${verb}`;
    // A skipped (or failed, over budget) issue's agent is being stopped: its report must end that attempt first.
    if (openAttempt(record) !== null || (lastAttempt(record)?.end === "interrupted" && lastAttempt(record)?.reportId === null)) {
      return `${n}'s agent is still being stopped: ${verb} once it has stopped (cspace status shows it)`;
    }
  }
  if (record.refused !== null) return `${n}'s merge was refused by the forge (${record.refused.reason}: ${record.refused.detail}): cspace does not overwrite people's work; nothing to ${verb}`;
  if (state.landingMismatch !== undefined) return `cspace stopped merging in this run (a squash landed as a tree nobody verified): nothing can merge, so nothing to ${verb}`;
  const spent = issueOverBudget(state, record);
  if (spent !== null) return `${n} is over its budget (${spent}): raise coordinator.budget.issue and send "resume" (which reads it again), then ${verb} ${String(record.number)}`;
  const held = record.dependencies.find((d) => {
    const dependency = state.issues[d];
    return dependency?.outcome != null;
  });
  if (held !== undefined) return `${n} depends on #${String(held)}, which ${state.issues[held]?.outcome?.kind === "failed" ? "failed" : "is blocked"}: retry ${String(held)} first`;
  return null;
}

/**
 * The retry's first prompt: the retry template with the last failure (the
 * failed attempt's own, else why the issue ended), counted as the first try
 * of its fresh budget. Null when the issue never started: its first launch
 * is the implementer prompt, as usual.
 */
function retryPrompt(state: CoordinatorState, record: IssueRecord): LaunchPrompt | null {
  const last = lastAttempt(record);
  if (last === null) return null;
  const maxAttempts = state.run?.settings.maxAttempts ?? 1;
  const outcome = record.outcome;
  const why = outcome === null ? "" : outcome.kind === "failed" ? `The issue failed: ${outcome.reason}` : outcome.by.kind === "worker" ? `You stopped with \`cspace blocked\`: ${last.blockedReason ?? outcome.reason}` : `The operator skipped it: ${outcome.reason}`;
  const failure: Failure =
    outcome?.kind === "failed" && last.failure !== null
      ? last.failure
      : { kind: "stopped", summary: why, command: null, output: null };
  return { kind: "retry", attempt: 1, maxAttempts, failure };
}

/** Why `reset N` of an issue not launched in this run cannot apply (it ended before it started: blocked by a dependency, or skipped). */
function freshStartRefusal(record: IssueRecord): string | null {
  const n = `#${String(record.number)}`;
  if (isSettled(record)) return `${n} has ended in this run before it started (${isMerged(record) ? "merged" : (record.outcome?.kind ?? "settled")}): there is nothing to reset${isMerged(record) ? "" : `; retry ${String(record.number)} starts it`}`;
  return null;
}

/**
 * Why `reset N` of an issue that started in this run cannot apply; null when it can. It discards the branch and
 * starts the issue again, so it is refused where that would lose or race something it must not: a merge (done, or
 * under way: its head is recorded and is being squashed), the issue's pull request in the merge train (the tree
 * verified for it is counted on by the cars behind it), its branch being moved by the host (a push or restack
 * in flight, whose outcome would land on the discarded work), or its agent being started (the fresh launch would
 * find that agent and adopt it). An issue that ended takes what `retry` takes.
 */
function resetRefusal(state: CoordinatorState, record: IssueRecord, inFlight: readonly Action[]): string | null {
  const n = `#${String(record.number)}`;
  if (isMerged(record)) return `${n} is merged: there is nothing to reset`;
  if (isMerging(record) || inFlight.some((action) => action.type === "Merge" && action.issue === record.number)) {
    return `${n}'s pull request is being merged: there is nothing to reset`;
  }
  if (inFlight.some((action) => action.type === "VerifyLanding" && action.issue === record.number)) {
    return `${n}'s pull request is in the merge train (verifying its landing on ${state.run?.settings.featureBranch ?? "the feature branch"}): reset once it has left it (it merges, or its verification fails), or skip it`;
  }
  if (inFlight.some((action) => (action.type === "Push" || action.type === "Restack") && action.issue === record.number)) {
    return `${n}'s branch is being moved on the forge (a push or restack under way): reset once it has landed, in a moment`;
  }
  // An agent being started (or restarted after a stall) could be taken for the fresh one: the reset stops it once it runs.
  // A launch whose attempt is recorded already has started its agent: the reset interrupts it like any working one.
  const starting = (action: Action): boolean =>
    (action.type === "Launch" && action.issue === record.number && action.attempt > record.attempts.length) || (action.type === "RestartStalled" && action.issue === record.number);
  if (inFlight.some(starting)) {
    return `${n}'s agent is being started: reset once it is working, in a moment`;
  }
  return restartRefusal(state, record, "reset");
}

/** What the coordinator tells the sender it did; `event`: what it recorded (a reset says what it discards). */
export function operatorDone(command: OperatorCommand, event?: CoordinatorEvent): string {
  const what = command.issue === null ? "the run" : `#${String(command.issue)}`;
  switch (command.kind) {
    case "pause":
      return `paused ${what}: no launch or merge until resume; agents already working go on`;
    case "resume":
      return `resumed ${what}`;
    case "skip":
      return `skipped ${what} (${command.reason}); its dependents are blocked`;
    case "reset":
      if (event?.type === "ResetRequested") {
        const stopping = event.attempt === null ? "" : ` (attempt ${String(event.attempt)}'s agent is being stopped)`;
        return `${what} is reset: its work is discarded${stopping}; it starts again from its base with the implementer prompt, and coordinator.maxAttempts more${event.unblocks.length === 0 ? "" : `; ${event.unblocks.map((d) => `#${String(d)}`).join(", ")} no longer blocked`}`;
      }
      return `${what} will start fresh from its base at its first launch: the issue-${String(command.issue)} an earlier run left is discarded`;
    case "retry":
      return `${what} gets a fresh attempt (and coordinator.maxAttempts more); its dependents blocked by it are unblocked`;
  }
}

function issueNumber(text: string): number | null {
  const n = Number(text.replace(/^#/, ""));
  return Number.isInteger(n) && n > 0 ? n : null;
}

function bad(error: string): { readonly ok: false; readonly error: string } {
  return { ok: false, error };
}
