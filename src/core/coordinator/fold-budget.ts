import { z } from "zod";
import { defineEvent, eventGroup } from "./event-registry.ts";
import { updateIssue } from "./update.ts";
import { count, issueNumber, timestamp } from "./vocabulary-schemas.ts";

/**
 * What a running attempt has spent before it reports (see budget.ts): the
 * coordinator polls each running agent's supervisor (`status`'s
 * `unreported`) and records what changed, so a budget holds while the agent
 * works, not only once it is done.
 */
export const budgetEvents = eventGroup(
  /**
   * Attempt `attempt`'s running invocation (started at `since`, worker's clock) has spent this much that no report holds.
   * Changes nothing for an attempt that ended, or for a run a report of the attempt already covers (a stale poll).
   */
  defineEvent("Spending", {
    version: 1,
    fields: z.object({ issue: issueNumber, attempt: z.number().int().min(1), since: timestamp, turns: count, costUsd: z.number().min(0).nullable() }),
    line: () => null,
    apply: (state, event) =>
      updateIssue(state, event.issue, (record) => {
        const attempt = record.attempts[event.attempt - 1];
        if (attempt === undefined || attempt.end !== null) return record;
        const upTo = attempt.reportedUpTo ?? null;
        if (upTo !== null && !(Date.parse(event.since) > Date.parse(upTo))) return record;
        const live = attempt.live ?? null;
        if (live !== null && live.since === event.since && live.turns === event.turns && live.costUsd === event.costUsd) return record;
        const next = { ...attempt, live: { since: event.since, turns: event.turns, costUsd: event.costUsd } };
        // A settled issue's open attempt still counts: its agent is being stopped, and its report ends it.
        return { ...record, attempts: record.attempts.map((a) => (a.number === attempt.number ? next : a)) };
      }),
  }),
);
