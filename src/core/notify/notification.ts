import type { CoordinatorEvent } from "../coordinator/events.ts";
import { needsYou, type NeedsYouKind } from "../coordinator/needs-you.ts";
import type { CoordinatorState } from "../coordinator/state.ts";

/**
 * What a person is told, and when: once per cause, when something needs them
 * (needs-you.ts: a failed issue, one its agent says it cannot finish, a red
 * feature branch, a stall past its escalation…) and when the run ends. Never
 * for routine progress. Each notification sent is recorded in the run's log
 * (`Notified`, fold-notify.ts) before it is delivered, so a resumed run knows
 * what was sent and sends nothing twice.
 */
export type NotificationKind = NeedsYouKind | "run-finished";

export interface Notification {
  readonly kind: NotificationKind;
  /** The issue it concerns; null for the whole run. */
  readonly issue: number | null;
  /** What it is about, exactly once (needs-you.ts `cause`; `run-finished` for the run's end). */
  readonly cause: string;
  /** One line for people, without control characters (a worker's words may be in it). */
  readonly reason: string;
  readonly runId: string;
  /** When it was decided, ISO 8601. */
  readonly at: string;
}

/** The cause of the run's end: one per run. */
export const RUN_FINISHED_CAUSE = "run-finished";

/** How much of a reason a notification carries: a line, not a log. */
export const NOTIFICATION_REASON_CHARS = 300;

/** The causes a log says were notified already (its `Notified` events). */
export function notifiedCauses(events: Iterable<CoordinatorEvent>): Set<string> {
  const causes = new Set<string>();
  for (const event of events) if (event.type === "Notified") causes.add(event.cause);
  return causes;
}

/** What to notify now that was not notified yet: each new cause of needsYou, and the run's end once it ended. */
export function dueNotifications(state: CoordinatorState, notified: ReadonlySet<string>, at: string): Notification[] {
  const runId = state.run?.runId;
  if (runId === undefined) return [];
  const due: Notification[] = needsYou(state)
    .filter((need) => !notified.has(need.cause))
    .map((need) => ({ kind: need.kind, issue: need.issue, cause: need.cause, reason: plainLine(need.reason), runId, at }));
  if (state.finished !== null && !notified.has(RUN_FINISHED_CAUSE)) {
    due.push({ kind: "run-finished", issue: null, cause: RUN_FINISHED_CAUSE, reason: runEndReason(state), runId, at });
  }
  return due;
}

/** "run 2026…: 3 merged, 1 failed, 0 blocked (exit 1)", or why it was abandoned. */
function runEndReason(state: CoordinatorState): string {
  const records = Object.values(state.issues);
  const count = (kind: string): number => records.filter((record) => record.status.kind === kind).length;
  const run = `run ${state.run?.runId ?? "-"}`;
  const abandoned = state.finished?.abandoned ?? null;
  if (abandoned !== null) return plainLine(`${run} ended: ${abandoned}`);
  return `${run} finished: ${String(count("merged"))} merged, ${String(count("failed"))} failed, ${String(count("blocked"))} blocked (exit ${String(state.finished?.exitCode ?? 1)})`;
}

/**
 * Text as a notification carries it: one line, with every control character
 * (C0, DEL, C1: what would end an escape sequence or start another) made a
 * space, and cut to `maxChars`.
 */
export function plainLine(text: string, maxChars = NOTIFICATION_REASON_CHARS): string {
  // eslint-disable-next-line no-control-regex -- the point is to remove them
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ").replace(/ {2,}/g, " ").trim();
  return flat.length <= maxChars ? flat : `${flat.slice(0, maxChars - 1)}…`;
}
