import { describeDenials } from "../network/denials.ts";
import type { ReportRow, RunReport } from "../coordinator/report.ts";
import type { RunReview } from "../coordinator/review.ts";
import type { TimeSplit } from "../coordinator/time-splits.ts";
import { SHOWN_TEXT_CHARS, shownText } from "../messaging/shown-text.ts";
import { failureSection } from "../coordinator/failure-words.ts";
import { fence } from "../templates/helpers.ts";

/** The report's columns, shared by the terminal table (src/ui) and the markdown copy in the run directory. */
export const REPORT_COLUMNS = ["issue", "PR", "base", "status", "attempts", "turns", "cost", "wall time"] as const;

export function reportCells(row: ReportRow): string[] {
  return [
    `#${String(row.issue)}`,
    row.pullRequest === null ? "-" : `#${String(row.pullRequest)}`,
    row.base ?? "-",
    // The reason may carry a worker's words (a blocked reason, a failure's output): one line, shortened; --json has it whole.
    row.reason === "" ? row.status : `${row.status}: ${shownText(row.reason, SHOWN_TEXT_CHARS)}`,
    String(row.attempts),
    String(row.turns),
    // "~": tokens priced by coordinator.prices, not a cost the agent stated.
    row.costUsd === null ? "-" : `${row.costEstimated ? "~" : ""}$${row.costUsd.toFixed(2)}`,
    (row.wallMs === null ? "-" : duration(row.wallMs)) + (row.parkedMs > 0 ? ` (parked ${duration(row.parkedMs)})` : ""),
  ];
}

export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${String(s)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${String(m)}m${String(s % 60).padStart(2, "0")}s` : `${String(Math.floor(m / 60))}h${String(m % 60).padStart(2, "0")}m`;
}

export function reportMarkdown(report: RunReport): string {
  const escape = (cell: string): string => cell.replaceAll("|", "\\|");
  const lines = [
    `# cspace run ${report.runId ?? "-"}`,
    "",
    `Feature branch: ${report.featureBranch ?? "-"}; ${String(report.totals.merged)} merged, ${String(report.totals.failed)} failed, ${String(report.totals.blocked)} blocked.`,
    "",
    `| ${REPORT_COLUMNS.join(" | ")} |`,
    `|${REPORT_COLUMNS.map(() => "---").join("|")}|`,
    ...report.rows.map((row) => `| ${reportCells(row).map(escape).join(" | ")} |`),
    "",
    ...(report.parkedMs > 0 ? [`Parked by usage limits: ${duration(report.parkedMs)}.`, ""] : []),
    ...(report.egressDenied === undefined || report.egressDenied.count === 0 ? [] : [`${describeDenials(report.egressDenied)}.`, ""]),
    ...(report.wallMs === null ? [] : [`Wall time: ${duration(report.wallMs)}${report.totals.costUsd === null ? "" : `; cost: ${report.rows.some((r) => r.costEstimated) ? "~" : ""}$${report.totals.costUsd.toFixed(2)}`}.`, ""]),
    ...failedIssuesMarkdown(report),
    ...timeMarkdown(report),
    ...reviewMarkdown(report.review, report.startedAt),
  ];
  return lines.join("\n");
}

/** The time table's columns: where each issue's time in the run went (time-splits.ts). */
export const TIME_COLUMNS = ["issue", "in run", "working", "dependencies", "slot", "starting", "parked", "verifying", "to merge"] as const;

/** A row's time cells; null when the report has no time splits (made from the state alone). */
export function timeCells(row: ReportRow): string[] | null {
  const time: TimeSplit | undefined = row.time;
  if (time === undefined) return null;
  const cell = (ms: number): string => (ms === 0 ? "-" : duration(ms));
  const stopped = time.stoppedMs > 0 ? ` (stopped ${duration(time.stoppedMs)})` : "";
  return [
    `#${String(row.issue)}`,
    duration(time.totalMs) + stopped,
    cell(time.workingMs),
    cell(time.dependenciesMs),
    cell(time.slotMs),
    cell(time.startingMs),
    cell(time.parkedMs),
    cell(time.verifyingMs),
    cell(time.mergingMs),
  ];
}

function timeMarkdown(report: RunReport): string[] {
  const rows = report.rows.flatMap((row) => timeCells(row) ?? []);
  if (rows.length === 0) return [];
  return [
    "## Where the time went",
    "",
    `| ${TIME_COLUMNS.join(" | ")} |`,
    `|${TIME_COLUMNS.map(() => "---").join("|")}|`,
    ...report.rows.flatMap((row) => {
      const cells = timeCells(row);
      return cells === null ? [] : [`| ${cells.join(" | ")} |`];
    }),
    "",
  ];
}

/** The review's sections as lines of text (no markup): the terminal and the markdown both show them. */
export function reviewSections(review: RunReview, runStartedAt: string | null): { readonly heading: string; readonly lines: readonly string[]; readonly numbered: boolean }[] {
  const offset = (at: string | null): string => {
    if (at === null || runStartedAt === null) return "-";
    const ms = Date.parse(at) - Date.parse(runStartedAt);
    return Number.isNaN(ms) ? "-" : `+${duration(Math.max(0, ms))}`;
  };
  const path = review.criticalPath.map((step, index) => {
    const previous = index === 0 ? undefined : review.criticalPath[index - 1];
    const waited = previous === undefined ? "" : `waited ${duration(previous.gatedMs)} on #${String(previous.issue)}; `;
    const settled = step.outcome === "unfinished" ? "unfinished" : `${step.outcome} ${offset(step.settledAt)}`;
    return `#${String(step.issue)} ${shownText(step.title, 60)}: ${waited}started ${offset(step.startedAt)}, ${settled} (agents worked ${duration(step.workingMs)})`;
  });
  return [
    { heading: "Critical path (what set the finish time)", lines: path.length === 0 ? ["no issue settled"] : path, numbered: path.length > 0 },
    { heading: "What went wrong", lines: review.wentWrong.length === 0 ? ["nothing: no failure, conflict, stall or limit"] : review.wentWrong.map((finding) => finding.text), numbered: false },
    {
      heading: "What would have helped",
      lines: review.suggestions.length === 0 ? ["nothing stood out: no long dependency wait, conflict between unordered issues, shared verify failure or queue for slots"] : review.suggestions.map((s) => s.text),
      numbered: false,
    },
  ];
}

/** The review as the report file's last section. */
export function reviewMarkdown(review: RunReview | undefined, runStartedAt: string | null = null): string[] {
  if (review === undefined) return [];
  return [
    "## After-action review",
    "",
    ...reviewSections(review, runStartedAt).flatMap((section) => [`### ${section.heading}`, "", ...section.lines.map((line, index) => (section.numbered ? `${String(index + 1)}. ${line}` : `- ${line}`)), ""]),
  ];
}

/** Each failed issue: why, the end of what failed and `cspace logs issue-N`, in a code block (its fence longer than any inside). */
function failedIssuesMarkdown(report: RunReport): string[] {
  const lines = failureSection(report.rows);
  return lines.length === 0 ? [] : ["## Failed", "", fence(lines.join("\n"), "text"), ""];
}
