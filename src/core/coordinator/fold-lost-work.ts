import { z } from "zod";
import { defineEvent, eventGroup } from "./event-registry.ts";
import { isSettled, openAttempt } from "./queries.ts";
import { updateIssue, updateLastAttempt } from "./update.ts";
import type { Failure } from "./vocabulary.ts";
import { issueNumber, text } from "./vocabulary-schemas.ts";

/**
 * A remote worker reported its head, and its host was lost before the head
 * could be collected: the commits lived only in the worker's checkout there,
 * so they are gone with the host. The attempt that made them counts as failed
 * (`lost`, as a worker lost mid-attempt), the issue's head goes back to what
 * the forge has of its own (none when its branch is still at its base), and
 * its instance is made again, on a host that answers: the
 * retry rule then relaunches it there, as one more attempt.
 */
export const lostWorkEvents = eventGroup(
  defineEvent("ReportedWorkLost", {
    version: 1,
    fields: z.object({ issue: issueNumber, headSha: text, reason: text }),
    line: (event) => `#${String(event.issue)} worker lost before its work ${event.headSha.slice(0, 8)} was collected: ${event.reason}`,
    apply: (state, event) =>
      updateIssue(state, event.issue, (record) => {
        // Only the head still waiting for its push: a later report, a push that made it after all, or an agent at work again say otherwise.
        if (record.headSha !== event.headSha || record.pushedSha === event.headSha || openAttempt(record) !== null) return record;
        const failure: Failure = { kind: "lost", summary: event.reason, command: null, output: null };
        const failed = updateLastAttempt(record, (attempt) => (attempt.headSha === event.headSha && attempt.failure === null ? { ...attempt, failure } : attempt));
        // Back to the work the forge holds, if any of its own: a branch still at its base (made there by the first launch,
        // or restacked with nothing of its own) has none, and must not look pushed (a pull request of no commits).
        const ownWork = record.pushedSha !== null && record.pushedSha !== record.baseSha;
        return { ...failed, headSha: ownWork ? record.pushedSha : null, warm: isSettled(record) ? record.warm : "pending" };
      }),
  }),
);
