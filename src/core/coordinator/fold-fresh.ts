import { z } from "zod";
import { defineEvent, eventGroup } from "./event-registry.ts";
import { isMerged, isMerging, isSettled } from "./queries.ts";
import { unblock } from "./fold-retry.ts";
import type { IssueRecord } from "./state.ts";
import { updateIssue } from "./update.ts";
import { issueNumber, list } from "./vocabulary-schemas.ts";

/**
 * A fresh start for an issue. `issue-N` outlives a run: a failed issue's
 * branch stays on the forge and in the store, and the next run's first
 * launch finds it. By default that launch carries the earlier work over,
 * replayed onto the current base (services/coordinate/execute.ts says so in
 * the progress line and the prompt). `cspace coordinate --fresh N`, or
 * `reset N` to a running coordinator before N starts, discards it instead:
 * the first launch moves `issue-N` (on the forge, then in the worker's
 * checkout) back to its base, and the pull request left open by the earlier
 * run is reused for the new work.
 *
 * `reset N` of an issue that has started in this run (`ResetRequested`)
 * throws this run's work on it away the same way: its next launch is a
 * first launch again (the base-branch rule, the implementer prompt, `issue-N`
 * moved back to the base), numbered on from its attempts.
 */
export const freshEvents = eventGroup(
  /** `by`: `--fresh` on the command line, or the operator's `reset`. Only an issue not launched yet in this run takes it. */
  defineEvent("FreshStartRequested", {
    version: 1,
    fields: z.object({ issue: issueNumber, by: z.enum(["flag", "operator"]) }),
    line: (event) => `#${String(event.issue)} will start fresh from its base: an earlier run's issue-${String(event.issue)} is discarded at its first launch`,
    apply: (state, event) =>
      updateIssue(state, event.issue, (record) => (record.freshStart || record.attempts.length > 0 || isSettled(record) ? record : { ...record, freshStart: true })),
  }),
  /**
   * The operator's `reset N` of an issue that started in this run (operator.ts decides whether it may):
   * - its work is discarded: the next launch (`freshStart`) moves `issue-N` back to the base the base-branch rule gives
   *   now, with the implementer prompt; what was reported, verified, checked or reviewed of the old work no longer counts;
   * - `attempt`: the open attempt it stops (null: none was open). The runtime interrupts that agent; the attempt stays
   *   open until its report ends it (its slot and its cost are the agent's until then), and whatever that report says
   *   is not taken: not its head, not its failure. Stopped by the operator, it is no failed attempt;
   * - like `retry N`, it gets `maxAttempts` more (`retriedAfter`) and its outcome is cleared; `unblocks`: its dependents
   *   blocked by it, transitively, are unblocked with the prompt they had pending.
   */
  defineEvent("ResetRequested", {
    version: 1,
    fields: z.object({ issue: issueNumber, attempt: z.number().int().min(1).nullable(), unblocks: list(issueNumber) }),
    line: (event) =>
      `#${String(event.issue)} reset by the operator: its work is discarded and it starts again from its base${event.attempt === null ? "" : ` (attempt ${String(event.attempt)} is stopped)`}${
        event.unblocks.length === 0 ? "" : `; ${event.unblocks.map((n) => `#${String(n)}`).join(", ")} no longer blocked`
      }`,
    apply: (state, event) => {
      const record = state.issues[event.issue];
      if (record === undefined || isMerged(record) || isMerging(record)) return state;
      return event.unblocks.reduce(unblock, updateIssue(state, event.issue, reset));
    },
  }),
);

function reset(record: IssueRecord): IssueRecord {
  return {
    ...record,
    freshStart: true,
    outcome: null,
    pending: { kind: "implementer" },
    pendingWhenBlocked: null,
    // Its attempts so far no longer count against maxAttempts, nor decide anything (unresolvedFailure, blockByWorker).
    retriedAfter: record.attempts.length,
    // The old work is no head to push, verify, review or merge; the forge's branch (`pushedSha`) stays a fact until the launch moves it.
    headSha: null,
    verification: null,
    landing: null,
    check: null,
    review: { requestedSha: null, passed: false },
    restackConflict: null,
    rebase: null,
    rateLimitedUntil: null,
    launchFailures: null,
    actionFailures: {},
    ...(record.warm === "failed" ? { warm: "pending" as const, warmError: null } : {}),
    // A branch the run deleted is made again at the base by the launch.
    ...(record.branchDeleted ? { branchDeleted: false, pushedSha: null } : {}),
  };
}
