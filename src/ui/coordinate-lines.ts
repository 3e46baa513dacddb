import type { WorldAction } from "../core/coordinator/actions.ts";
import { eventLine } from "../core/coordinator/events.ts";
import { failureTail } from "../core/coordinator/failure-words.ts";
import type { CoordinatorProgress } from "../core/coordinator-runtime/progress.ts";
import { shownText } from "../core/messaging/shown-text.ts";

/**
 * The coordinator's progress as plain timestamped lines (stderr): one per
 * event worth a person's attention (its text is the event's `line`, declared
 * in its registry entry: core/coordinator/fold-*.ts) and per action started; a
 * failed issue's line is followed by the last lines of what failed. Pure, so a
 * dashboard can replace it by subscribing to the same stream. Null: nothing to show.
 */
export function progressLine(progress: CoordinatorProgress): string | null {
  switch (progress.kind) {
    case "event": {
      const text = eventLine(progress.event);
      // Events carry workers' words: each line stays one line, of a bounded length.
      if (text === null) return null;
      const at = clock(progress.event.at);
      // A failed issue: the end of what failed, under its line (each of those lines flattened and cut too).
      const tail = progress.event.type === "Failed" && progress.event.failure !== undefined ? failureTail(progress.event.failure) : [];
      return [`${at} ${shownText(text, LINE_CHARS)}`, ...tail.map((line) => `${at}   ${line}`)].join("\n");
    }
    case "action": {
      const text = actionText(progress.action);
      return text === null ? null : `${clock(progress.at)} ${text}`;
    }
    case "notice":
      return `${clock(progress.at)} note: ${shownText(progress.text, LINE_CHARS)}`;
  }
}

/** The longest line shown for one event; a worker's own text in it is cut shorter (SHOWN_TEXT_CHARS). */
const LINE_CHARS = 1_000;

function clock(at: string): string {
  return at.slice(11, 19);
}

function actionText(action: WorldAction): string | null {
  // Most actions show as the event they end with; these take long enough to be worth a line when they start.
  if (action.type === "Merge") return `#${String(action.issue)} merging pull request #${String(action.pr)}`;
  if (action.type === "Verify") return `#${String(action.issue)} verifying ${action.headSha.slice(0, 8)}`;
  if (action.type === "VerifyLanding") return `#${String(action.issue)} verifying on ${action.base}${[...action.ahead, action].map((car) => ` + #${String(car.issue)}`).join("")}`;
  if (action.type === "VerifyBase") return `verifying ${action.branch} alone, in ${action.instance}`;
  return null;
}
