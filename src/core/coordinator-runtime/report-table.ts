import { describeDenials } from "../network/denials.ts";
import type { ReportRow, RunReport } from "../coordinator/report.ts";
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
    ...failedIssuesMarkdown(report),
  ];
  return lines.join("\n");
}

/** Each failed issue: why, the end of what failed and `cspace logs issue-N`, in a code block (its fence longer than any inside). */
function failedIssuesMarkdown(report: RunReport): string[] {
  const lines = failureSection(report.rows);
  return lines.length === 0 ? [] : ["## Failed", "", fence(lines.join("\n"), "text"), ""];
}
