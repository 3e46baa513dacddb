import type { DashboardFrame } from "./frame.ts";
import { duration, oneLine, usd } from "./text.ts";

/**
 * `cspace status --watch` without a terminal: a timestamped line per change
 * (the run's counts, an issue's state, something that needs you), so a log
 * file or a pipe reads as a history; and `--json`: each frame as one line of
 * JSON (NDJSON).
 */
export function changeLines(previous: DashboardFrame | null, next: DashboardFrame, clock: string): string[] {
  const lines: string[] = [];
  const header = headerText(next);
  if (previous === null || headerText(previous) !== header) lines.push(header);
  const before = new Map((previous?.model.rows ?? []).map((row) => [row.issue, row]));
  for (const row of next.model.rows) {
    const was = before.get(row.issue);
    if (was?.state === row.state && was.attempt === row.attempt) continue;
    lines.push(`#${String(row.issue)} ${oneLine(row.title)}: ${oneLine(row.state)}${row.attempt > 1 ? ` (attempt ${String(row.attempt)})` : ""}`);
  }
  const causes = new Set((previous?.model.needsYou ?? []).map((item) => item.cause));
  for (const item of next.model.needsYou) {
    if (!causes.has(item.cause)) lines.push(`needs you: ${item.issue === null ? "" : `#${String(item.issue)} `}${oneLine(item.reason)}`);
  }
  return lines.map((line) => `${clock} ${line}`);
}

function headerText(frame: DashboardFrame): string {
  const m = frame.model;
  const c = m.header.counts;
  const spend = m.header.budgetUsd === null ? usd(m.header.spentUsd) : `${usd(m.header.spentUsd)} of ${usd(m.header.budgetUsd)}`;
  const state = m.ended ? "ended" : m.header.paused ? "paused" : frame.coordinatorAlive ? "running" : "not running";
  return `run ${m.runId ?? "-"} ${state}: ${String(c.merged)} merged, ${String(c.working)} working, ${String(c.waiting)} waiting, ${String(c.failed)} failed, ${String(c.blocked)} blocked; ${spend}${m.header.held === null ? "" : `; held: ${oneLine(m.header.held)}`}`;
}

/** A frame as one JSON line: the model as it is, the agents' last lines as an object keyed by issue. */
export function frameJson(frame: DashboardFrame): string {
  return JSON.stringify({ kind: "frame", model: frame.model, lastLines: Object.fromEntries(frame.lastLines), coordinatorAlive: frame.coordinatorAlive });
}

/** The elapsed figure a plain watcher prints at the end. */
export function endedLine(frame: DashboardFrame): string {
  return `run ${frame.model.runId ?? "-"} ended after ${duration(frame.model.header.elapsedMs)}`;
}
