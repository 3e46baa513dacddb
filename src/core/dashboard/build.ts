import { runOverBudget, runSpent } from "../coordinator/budget.ts";
import { needsYou } from "../coordinator/needs-you.ts";
import { isSettled } from "../coordinator/queries.ts";
import type { CoordinatorState, IssueRecord } from "../coordinator/state.ts";
import { estimateRemaining } from "./estimate.ts";
import type { DashboardHeader, DashboardModel, DashboardRow, RowGroup } from "./model.ts";
import { clock, rowState } from "./row-state.ts";
import { terminalSafeLine } from "./terminal-safe.ts";
import { issueTree } from "./tree.ts";

/**
 * The dashboard's model of a run at `now` (ISO 8601): pure, from the state
 * the run's log folds into, so the live view, `status --watch` and the
 * parent issue's comment show the same thing from any process.
 *
 * Every text in it is terminal-safe (terminal-safe.ts): titles come from the
 * forge and reasons can quote a worker (a blocked agent's reason, a failure's
 * summary), and either can hold escape sequences meant for the user's
 * terminal.
 */
export function dashboardModel(state: CoordinatorState, now: string): DashboardModel {
  const at = Date.parse(now);
  const listed = needsYou(state).map((item) => ({ ...item, reason: terminalSafeLine(item.reason, 500) }));
  const needing = new Set(listed.flatMap((item) => (item.issue === null ? [] : [item.issue])));
  const rows = issueTree(state).flatMap(({ issue, depth }) => {
    const record = state.issues[issue];
    return record === undefined ? [] : [row(state, record, depth, at, needing)];
  });
  return {
    runId: state.run?.runId ?? null,
    featureBranch: state.run?.settings.featureBranch ?? null,
    header: header(state, rows, at),
    needsYou: listed,
    rows,
    ended: runEnded(state),
  };
}

/** The view stops following: the run finished (or was abandoned), or every issue is merged, failed or blocked. */
export function runEnded(state: CoordinatorState): boolean {
  if (state.finished !== null) return true;
  const issues = Object.values(state.issues);
  return state.run !== null && state.loaded && issues.length > 0 && issues.every(isSettled);
}

function header(state: CoordinatorState, rows: readonly DashboardRow[], now: number): DashboardHeader {
  const count = (group: RowGroup): number => rows.filter((r) => r.group === group).length;
  const startedAt = state.run === null ? Number.NaN : Date.parse(state.run.startedAt);
  const endedAt = state.finished === null ? now : Date.parse(state.finished.at);
  const elapsed = endedAt - startedAt;
  const { remainingMs, estimate } = estimateRemaining(state, now);
  return {
    counts: { merged: count("merged"), working: count("working"), waiting: count("waiting"), failed: count("failed"), blocked: count("blocked") },
    spentUsd: runSpent(state),
    budgetUsd: state.budget.run,
    elapsedMs: Number.isNaN(elapsed) ? 0 : Math.max(0, elapsed),
    remainingMs,
    estimate,
    paused: state.paused && state.finished === null,
    held: state.finished === null ? held(state) : null,
  };
}

/** Why no agent starts now, run-wide: a usage limit, or the budget. */
function held(state: CoordinatorState): string | null {
  if (state.parked !== null) return `usage limit: no agent starts until ${clock(state.parked.until)}`;
  if (runOverBudget(state) !== null) return "over budget: no agent starts until coordinator.budget.run is raised and the run resumed";
  return null;
}

function row(state: CoordinatorState, record: IssueRecord, depth: number, now: number, needing: ReadonlySet<number>): DashboardRow {
  const shown = rowState(state, record);
  const open = record.attempts.at(-1)?.end === null ? record.attempts.at(-1) : undefined;
  const costs = record.attempts.flatMap((a) => [a.costUsd, a.end === null ? (a.live?.costUsd ?? null) : null]).filter((c): c is number => c !== null);
  return {
    issue: record.number,
    title: terminalSafeLine(record.title),
    depth,
    kind: record.status.kind,
    group: shown.group,
    state: terminalSafeLine(shown.words, 500),
    attempt: record.attempts.length,
    turns: record.attempts.reduce((sum, a) => sum + a.turns, 0) + (open?.live?.turns ?? 0),
    costUsd: costs.length === 0 ? null : costs.reduce((sum, c) => sum + c, 0),
    elapsedMs: elapsedOf(state, record, now),
    pullRequest: record.pullRequest?.number ?? record.merge?.pr ?? null,
    pullRequestUrl: record.pullRequest?.url ?? null,
    needsYou: needing.has(record.number),
    until: shown.until,
  };
}

/** From its first launch to now, or to its merge or outcome (or the run's end). */
function elapsedOf(state: CoordinatorState, record: IssueRecord, now: number): number | null {
  const first = record.attempts[0];
  if (first === undefined) return null;
  const end = record.merge?.mergedAt ?? record.outcome?.at ?? state.finished?.at ?? null;
  const ms = (end === null ? now : Date.parse(end)) - Date.parse(first.startedAt);
  return Number.isNaN(ms) ? null : Math.max(0, ms);
}
