import type { RunReport } from "../core/coordinator/report.ts";
import { REPORT_COLUMNS, reportCells } from "../core/coordinator-runtime/report-table.ts";
import { describeDenials } from "../core/network/denials.ts";
import type { Paint } from "./tone.ts";

/** The run's table (issue, PR, base, status, attempts, turns, cost, wall time) for a terminal. */
export function renderRunReport(report: RunReport, paint: Paint, holder?: string | null): string[] {
  const rows = report.rows.map(reportCells);
  const header = [...REPORT_COLUMNS];
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? "").length)));
  const format = (cells: readonly string[]): string => cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join("  ");
  const { merged, failed, blocked, costUsd } = report.totals;
  return [
    `Run ${report.runId ?? "-"} into ${report.featureBranch ?? "-"}${holder === undefined || holder === null ? "" : ` (running: ${holder})`}`,
    ...(report.paused ? [paint("warn", 'Paused: no launch or merge until cspace send _coordinator "resume"; agents already working go on.')] : []),
    "",
    paint("heading", format(header)),
    ...report.rows.map((row, index) => {
      const line = format(rows[index] ?? []);
      return row.status === "merged" ? paint("good", line) : row.status === "failed" || row.status === "blocked" ? paint("bad", line) : line;
    }),
    "",
    `${String(merged)} merged, ${String(failed)} failed, ${String(blocked)} blocked${costUsd === null ? "" : `; $${costUsd.toFixed(2)}`}.`,
    ...(report.egressDenied === undefined || report.egressDenied.count === 0 ? [] : [paint("warn", `${describeDenials(report.egressDenied)}.`)]),
  ];
}
