import { z } from "zod";
import { SHOWN_TEXT_CHARS, shownText } from "../messaging/shown-text.ts";
import { defineEvent, eventGroup } from "./event-registry.ts";
import { NO_STALLS, stallOf, type StallStep } from "./stalls.ts";
import type { CoordinatorState, IssueRecord } from "./state.ts";
import { updateIssue } from "./update.ts";
import { count, issueNumber, text } from "./vocabulary-schemas.ts";

/**
 * Stalls (stalls.ts): the runtime's observations of agent activity and the
 * steps taken on silence. Each applies only to the attempt it names while
 * that attempt is open: a report that ended it first leaves them no effect.
 */

const attemptNumber = z.number().int().min(1);
const stepFields = { issue: issueNumber, attempt: attemptNumber, silentMinutes: count };

export const stallEvents = eventGroup(
  /**
   * The runtime saw the agent of the open attempt do something (an agent event in its worker's log since it last
   * looked): the silence clock starts again at `at`. Recorded only when it matters (see stall-watch.ts); not shown.
   */
  defineEvent("AgentActive", {
    version: 1,
    fields: z.object({ issue: issueNumber, attempt: attemptNumber }),
    line: () => null,
    apply: (state, event) =>
      withStall(state, event.issue, event.attempt, (stall) =>
        stall.quietSince === event.at && stall.step === null ? stall : { ...stall, quietSince: event.at, step: null, stepAt: null },
      ),
  }),
  /** Step 1: the agent was sent the `nudge` template's message (`delivered` false: its supervisor did not take it, `error` says why). */
  defineEvent("StallNudged", {
    version: 1,
    fields: z.object({ ...stepFields, lastEvent: text.nullable(), delivered: z.boolean(), error: text.nullable() }),
    line: (event) =>
      `#${String(event.issue)} silent for ${String(event.silentMinutes)} min: ${event.delivered ? "nudged" : `could not be nudged (${shownText(event.error ?? "", SHOWN_TEXT_CHARS)})`}`,
    apply: (state, event) => step(state, event, "nudged"),
  }),
  /** Step 2: the same attempt restarted with the reason, resuming its session where the preset can; not a new attempt. */
  defineEvent("StallRestarted", {
    version: 1,
    fields: z.object({ ...stepFields, reason: text, error: text.nullable() }),
    line: (event) =>
      `#${String(event.issue)} silent for ${String(event.silentMinutes)} min after a nudge: ${event.error === null ? "attempt restarted" : `restart failed (${shownText(event.error, SHOWN_TEXT_CHARS)})`}`,
    apply: (state, event) => step(state, event, "restarted"),
  }),
  /** Step 3: a person has to look (needs-you.ts, cause `stalled:<issue>:<attempt>`); the agent is left running. */
  defineEvent("StallEscalated", {
    version: 1,
    fields: z.object(stepFields),
    line: (event) => `#${String(event.issue)} still silent after ${String(event.silentMinutes)} min: needs you (cspace logs issue-${String(event.issue)})`,
    apply: (state, event) => step(state, event, "escalated"),
  }),
);

type StallEvent = { readonly at: string; readonly issue: number; readonly attempt: number };

function step(state: CoordinatorState, event: StallEvent, taken: StallStep): CoordinatorState {
  return withStall(
    state,
    event.issue,
    event.attempt,
    (stall) => (stall.stepAt === event.at && stall.step === taken ? stall : { ...stall, step: taken, stepAt: event.at, restarted: stall.restarted || taken === "restarted" }),
    (record) => {
      const counts = record.stalls ?? NO_STALLS;
      return { ...record, stalls: { ...counts, [taken]: counts[taken] + 1 } };
    },
  );
}

/** The issue with its open attempt's stall replaced, when `attempt` is that open attempt. */
function withStall(
  state: CoordinatorState,
  issue: number,
  attempt: number,
  update: (stall: NonNullable<ReturnType<typeof stallOf>>) => NonNullable<ReturnType<typeof stallOf>>,
  counted: (record: IssueRecord) => IssueRecord = (record) => record,
): CoordinatorState {
  return updateIssue(state, issue, (record) => {
    const stall = stallOf(record);
    if (stall?.attempt !== attempt) return record;
    const next = update(stall);
    return next === stall && record.stall === stall ? record : counted({ ...record, stall: next });
  });
}
