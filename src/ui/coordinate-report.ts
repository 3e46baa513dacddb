import { failureSection } from "../core/coordinator/failure-words.ts";
import { describeLogProblem } from "../core/coordinator/log.ts";
import type { RunReport } from "../core/coordinator/report.ts";
import { duration, REPORT_COLUMNS, reportCells, reviewSections, TIME_COLUMNS, timeCells } from "../core/coordinator-runtime/report-table.ts";
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
    ...notRunningLines(report, holder, paint),
    ...(report.paused ? [paint("warn", 'Paused: no launch or merge until cspace send _coordinator "resume"; agents already working go on.')] : []),
    ...(report.abandoned === null ? [] : [paint("warn", `Abandoned: ${report.abandoned}.`)]),
    ...(report.parked === null
      ? []
      : [paint("warn", `Parked: ${report.parked.account} hit its usage limit${report.parked.message === null ? "" : ` (${report.parked.message})`}; no agent starts until ${report.parked.until}, then one probes the account.`)]),
    ...(report.overBudget === null ? [] : [paint("warn", `Over budget: ${report.overBudget}.`)]),
    ...problemLines(report, paint),
    "",
    paint("heading", format(header)),
    ...report.rows.map((row, index) => {
      const line = format(rows[index] ?? []);
      return row.status === "merged" ? paint("good", line) : row.status === "failed" || row.status === "blocked" ? paint("bad", line) : line;
    }),
    "",
    `${String(merged)} merged, ${String(failed)} failed, ${String(blocked)} blocked${costUsd === null ? "" : `; ${report.rows.some((r) => r.costEstimated) ? "~" : ""}$${costUsd.toFixed(2)}`}${report.parkedMs > 0 ? `; parked by usage limits ${duration(report.parkedMs)}` : ""}.`,
    ...(report.rows.some((r) => r.costEstimated) ? ["~: estimated, the agent's tokens priced by coordinator.prices (it reports no cost)."] : []),
    ...failureSection(report.rows).map((line) => (line.startsWith("#") ? paint("bad", line) : line)),
    ...(report.egressDenied === undefined || report.egressDenied.count === 0 ? [] : [paint("warn", `${describeDenials(report.egressDenied)}.`)]),
    ...predictionLines(report),
    ...stallLines(report),
    ...timeLines(report, paint),
  ];
}

/** The run's wall time and, when the report has them, where each issue's time went. */
function timeLines(report: RunReport, paint: Paint): string[] {
  const rows = report.rows.flatMap((row) => {
    const cells = timeCells(row);
    return cells === null ? [] : [cells];
  });
  const wall = report.wallMs === null ? [] : [`Wall time: ${duration(report.wallMs)}.`];
  if (rows.length === 0) return wall;
  return ["", ...wall, paint("heading", columns([...TIME_COLUMNS], rows)[0] ?? ""), ...columns([...TIME_COLUMNS], rows).slice(1)];
}

/** The after-action review (critical path, what went wrong, what would have helped), for a terminal. */
export function renderReview(report: RunReport, paint: Paint): string[] {
  if (report.review === undefined) return [];
  return reviewSections(report.review, report.startedAt).flatMap((section) => [
    "",
    paint("heading", `${section.heading}:`),
    ...section.lines.map((line, index) => (section.numbered ? `  ${String(index + 1)}. ${line}` : `  - ${line}`)),
  ]);
}

/** A header and rows padded into columns (the last one unpadded). */
function columns(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? "").length)));
  const format = (cells: readonly string[]): string => cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join("  ");
  return [format(header), ...rows.map(format)];
}

/** Agents that went silent (core/coordinator/stalls.ts): one line with each issue's steps, when any was taken. */
export function stallLines(report: RunReport): string[] {
  const stalled = report.rows.filter((row) => row.stalls.nudged + row.stalls.restarted + row.stalls.escalated > 0);
  if (stalled.length === 0) return [];
  const steps = stalled.map((row) => {
    const taken = [
      row.stalls.nudged > 0 ? `nudged ${String(row.stalls.nudged)}×` : "",
      row.stalls.restarted > 0 ? `restarted ${String(row.stalls.restarted)}×` : "",
      row.stalls.escalated > 0 ? `needed you ${String(row.stalls.escalated)}×` : "",
    ].filter((text) => text !== "");
    return `#${String(row.issue)} ${taken.join(", ")}`;
  });
  return [`Stalls (agents silent for coordinator.stallMinutes): ${steps.join("; ")}.`];
}

/** Conflicts seen coming: a line when any was predicted or met, and each issue held by one. */
function predictionLines(report: RunReport): string[] {
  const p = report.predictions;
  if (p === undefined || (p.predicted === 0 && p.missed === 0 && p.held.length === 0)) return [];
  const lead = p.leadMs.length === 0 ? "" : `, ${duration(Math.min(...p.leadMs))}–${duration(Math.max(...p.leadMs))} before they were met`;
  return [
    `Conflicts: ${String(p.predicted)} predicted, ${String(p.cameTrue)} came true${lead}; ${String(p.falseAlarms)} false alarms; ${String(p.missed)} missed; ${String(p.told)} agents told while working.`,
    ...p.held.map((held) => `#${String(held.issue)} ${held.reason}.`),
  ];
}

/** Events of the log that could not be applied: named by sequence number, with the way out while the run is unfinished. */
function problemLines(report: RunReport, paint: Paint): string[] {
  if (report.problems.length === 0) return [];
  const shown = report.problems.slice(0, 5).map((problem) => paint("bad", `Problem: ${describeLogProblem(problem)}`));
  const more = report.problems.length > 5 ? [paint("bad", `… and ${String(report.problems.length - 5)} more events that cannot be applied`)] : [];
  const wayOut =
    report.finishedAt === null
      ? [paint("warn", "This run cannot be resumed: cspace coordinate --abandon ends it (its log is kept), then cspace coordinate <issues…> starts a new one.")]
      : [];
  return [...shown, ...more, ...wayOut];
}

/**
 * `cspace status` of a run nobody coordinates (null holder) that has not
 * finished: its coordinator was stopped (Ctrl-C, a closed terminal, a crash),
 * which the table alone does not say. Undefined holder: the coordinator's own
 * report, which is running by definition.
 */
function notRunningLines(report: RunReport, holder: string | null | undefined, paint: Paint): string[] {
  if (holder !== null || report.finishedAt !== null || report.runId === null) return [];
  return [
    paint(
      "warn",
      "Not running: no coordinator is carrying this run on (it was stopped: Ctrl-C, a closed terminal, a crash). Agents already working go on; cspace coordinate --resume carries the run on from where it stopped.",
    ),
  ];
}
