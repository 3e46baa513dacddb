import type { WorldAction } from "../core/coordinator/actions.ts";
import type { CoordinatorEvent } from "../core/coordinator/events.ts";
import type { CoordinatorProgress } from "../core/coordinator-runtime/progress.ts";
import { SHOWN_TEXT_CHARS, shownText } from "../core/messaging/shown-text.ts";

/**
 * The coordinator's progress as plain timestamped lines (stderr): one per
 * event worth a person's attention and per action started. Pure, so a
 * dashboard can replace it by subscribing to the same stream. Null: nothing to show.
 */
export function progressLine(progress: CoordinatorProgress): string | null {
  switch (progress.kind) {
    case "event": {
      const text = eventText(progress.event);
      // Events carry workers' words: each line stays one line, of a bounded length.
      return text === null ? null : `${clock(progress.event.at)} ${shownText(text, LINE_CHARS)}`;
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

function eventText(event: CoordinatorEvent): string | null {
  switch (event.type) {
    case "RunStarted":
      return `run ${event.runId}: ${event.selected.map((n) => `#${String(n)}`).join(" ")} into ${event.settings.featureBranch}, ${String(event.settings.maxParallel)} at once`;
    case "Warmed":
      return `#${String(event.issue)} ${event.instance} ready`;
    case "WarmFailed":
      return `#${String(event.issue)} ${event.instance} could not be made: ${event.error}`;
    case "Launched":
      return `#${String(event.issue)} attempt ${String(event.attempt)} (${event.why}) started on ${event.base}`;
    case "Reported":
      return `#${String(event.issue)} attempt ${String(event.attempt)} ended: ${event.report.outcome}${event.report.blockedReason === null ? "" : ` (${shownText(event.report.blockedReason, SHOWN_TEXT_CHARS)})`}, ${String(event.report.turns)} turns`;
    case "WorkerLost":
      return `#${String(event.issue)} worker lost: ${event.reason}`;
    case "RateLimited":
      return `#${String(event.issue)} rate-limited until ${event.until}`;
    case "Pushed":
      return `#${String(event.issue)} pushed ${event.headSha.slice(0, 8)}${event.forced ? " (forced)" : ""}`;
    case "Verified":
      return `#${String(event.issue)} verified ${event.headSha.slice(0, 8)}`;
    case "VerifyFailed":
      return event.exitCode === null
        ? `#${String(event.issue)} verify failed: ${event.command} did not finish: ${event.outputTail.trim().split("\n")[0] ?? ""}`
        : `#${String(event.issue)} verify failed: ${event.command} exited ${String(event.exitCode)}`;
    case "PullRequestOpened":
      return `#${String(event.issue)} pull request #${String(event.pr)} into ${event.base}`;
    case "Merged":
      return `#${String(event.issue)} merged as ${event.squashSha.slice(0, 8)}`;
    case "MergeRefused":
      return `#${String(event.issue)} merge refused (${event.reason}): ${event.detail}`;
    case "Restacked":
      return `#${String(event.issue)} restacked onto ${event.onto}`;
    case "RestackConflicted":
      return `#${String(event.issue)} restack onto ${event.onto} conflicts in ${event.paths.join(", ")}`;
    case "Retargeted":
      return `#${String(event.issue)} pull request retargeted to ${event.base}`;
    case "Retried":
      return `#${String(event.issue)} retrying after ${event.failure.kind}: ${event.failure.summary}`;
    case "Failed":
      return `#${String(event.issue)} failed: ${shownText(event.reason, SHOWN_TEXT_CHARS)}`;
    case "Blocked":
      return `#${String(event.issue)} blocked: ${shownText(event.reason, SHOWN_TEXT_CHARS)}`;
    case "RebaseRequested":
      return `#${String(event.issue)} asked to rebase onto ${event.prompt.onto}`;
    case "RunFinished":
      return `run finished (exit ${String(event.exitCode)})`;
    case "WorkerMessaged":
      return `#${String(event.issue)} says: ${shownText(event.text, SHOWN_TEXT_CHARS)}`;
    case "Paused":
      return event.issue === null ? "paused: no launch or merge until resume" : `#${String(event.issue)} paused`;
    case "Resumed":
      return event.issue === null ? "resumed" : `#${String(event.issue)} resumed`;
    case "Skipped":
      return `#${String(event.issue)} skipped: ${event.reason}`;
    // Shown as the runtime's notice of each failure, with the wait before the next try.
    case "ActionFailed":
    case "ActionRecovered":
    case "IssuesLoaded":
    case "PullRequestChecked":
    case "ReviewRequested":
    case "Reviewed":
    case "MergeReady":
    case "IssueClosed":
    case "BranchDeleted":
      return null;
  }
}

function actionText(action: WorldAction): string | null {
  // Most actions show as the event they end with; these take long enough to be worth a line when they start.
  if (action.type === "Merge") return `#${String(action.issue)} merging pull request #${String(action.pr)}`;
  if (action.type === "Verify") return `#${String(action.issue)} verifying ${action.headSha.slice(0, 8)}`;
  return null;
}
