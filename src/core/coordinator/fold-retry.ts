import { z } from "zod";
import { defineEvent, eventGroup } from "./event-registry.ts";
import type { CoordinatorState, IssueRecord } from "./state.ts";
import { updateIssue } from "./update.ts";
import { issueNumber, launchPromptSchema, list } from "./vocabulary-schemas.ts";

/**
 * The operator's `retry N` (`cspace send _coordinator "retry 12"`, the
 * dashboard's `r`): an issue that failed, that its worker said it cannot
 * finish, or that the operator skipped gets a fresh attempt in the same run.
 * operator.ts decides whether it may (and words the refusal); this fold
 * applies it:
 * - the issue's outcome is cleared and its next launch is `prompt` (the retry
 *   template with the last failure; null when it never started: its first
 *   launch is the implementer prompt as usual);
 * - it gets `maxAttempts` more: failures before the retry no longer count
 *   (`retriedAfter`, read by `failureCount`), nor do launches that could not
 *   start its agent, nor world actions given up; an instance that could not
 *   be made is made again;
 * - its dependents blocked by it (`unblocks`: transitively, those blocked by
 *   a dependency the retry unblocks) are unblocked, with the prompt they had
 *   pending when they were blocked.
 * The attempts before it stay in the log and the report: a retry is more
 * attempts, never a rewrite of the ones made.
 */
export const retryEvents = eventGroup(
  defineEvent("RetryRequested", {
    version: 1,
    fields: z.object({ issue: issueNumber, prompt: launchPromptSchema.nullable(), unblocks: list(issueNumber) }),
    line: (event) =>
      `#${String(event.issue)} retried by the operator: a fresh attempt${event.unblocks.length === 0 ? "" : `; ${event.unblocks.map((n) => `#${String(n)}`).join(", ")} no longer blocked`}`,
    apply: (state, event) => {
      const record = state.issues[event.issue];
      if (record === undefined || !retryable(record)) return state;
      const retried = updateIssue(state, event.issue, (current) => ({
        ...current,
        outcome: null,
        pending: event.prompt,
        pendingWhenBlocked: null,
        retriedAfter: current.attempts.length,
        launchFailures: null,
        actionFailures: {},
        ...(current.warm === "failed" ? { warm: "pending" as const, warmError: null } : {}),
        // A branch the run deleted (nothing of its own was on it) is pushed again from the worker's checkout: no lease on it.
        ...(current.branchDeleted && current.merge === null ? { branchDeleted: false, pushedSha: null } : {}),
      }));
      return event.unblocks.reduce(unblock, retried);
    },
  }),
);

/** What `retry N` applies to: a failed issue, or one blocked by its worker or by the operator's skip. */
export function retryable(record: IssueRecord): boolean {
  const outcome = record.outcome;
  if (outcome === null || record.mergedBeforeRun || record.merge?.squashSha != null) return false;
  return outcome.kind === "failed" || outcome.by.kind === "worker" || outcome.by.kind === "operator";
}

/**
 * The issues blocked because `issue` is, directly or through another blocked
 * dependency: those a retry of it unblocks, in ascending order.
 */
export function blockedBehind(state: CoordinatorState, issue: number): number[] {
  const found = new Set<number>();
  const queue = [issue];
  while (queue.length > 0) {
    const from = queue.shift() ?? 0;
    for (const n of state.issues[from]?.dependents ?? []) {
      const outcome = state.issues[n]?.outcome;
      if (found.has(n) || outcome?.kind !== "blocked" || outcome.by.kind !== "dependency" || outcome.by.issue !== from) continue;
      found.add(n);
      queue.push(n);
    }
  }
  return [...found].sort((a, b) => a - b);
}

/** Dependent `n`, blocked by a dependency, unblocked with the prompt it had pending (a retry's or a reset's `unblocks`). */
export function unblock(state: CoordinatorState, n: number): CoordinatorState {
  return updateIssue(state, n, (record) =>
    record.outcome?.kind === "blocked" && record.outcome.by.kind === "dependency"
      ? { ...record, outcome: null, pending: record.pendingWhenBlocked ?? null, pendingWhenBlocked: null }
      : record,
  );
}
