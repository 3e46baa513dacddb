import { needsYou } from "../coordinator/needs-you.ts";
import type { CoordinatorState, IssueRecord, IssueStatusKind } from "../coordinator/state.ts";
import type { DashboardModel, DashboardRow, RowGroup } from "./model.ts";

/**
 * A DashboardModel with what the parent issue's progress comment shows:
 * counts, what needs a person, and per issue its state in the core's words
 * (status.ts), attempt, turns, cost and pull request. It leaves out what only
 * the live view needs (no time-left estimate, no "queued to merge, 2nd").
 *
 * The full builder is `dashboardModel` (./build.ts, the live dashboard's);
 * this one is the progress comment's until that is on main, and is replaced
 * by it there (services/coordinate/coordinate.ts passes the builder in).
 */
export function basicDashboardModel(state: CoordinatorState, now: number): DashboardModel {
  const order = state.run?.order ?? Object.keys(state.issues).map(Number);
  const needs = needsYou(state);
  const needing = new Set(needs.flatMap((need) => (need.issue === null ? [] : [need.issue])));
  const depths = new Map<number, number>();
  const rows: DashboardRow[] = [];
  for (const issue of order) {
    const record = state.issues[issue];
    if (record === undefined) continue;
    const first = record.dependencies.find((d) => depths.has(d));
    const depth = first === undefined ? 0 : (depths.get(first) ?? 0) + 1;
    depths.set(issue, depth);
    rows.push(rowOf(record, depth, needing.has(issue), now));
  }
  const count = (group: RowGroup) => rows.filter((row) => row.group === group).length;
  const started = state.run === null ? null : Date.parse(state.run.startedAt);
  const ended = state.finished === null ? null : Date.parse(state.finished.at);
  return {
    runId: state.run?.runId ?? null,
    featureBranch: state.run?.settings.featureBranch ?? null,
    header: {
      counts: { merged: count("merged"), working: count("working"), waiting: count("waiting"), failed: count("failed"), blocked: count("blocked") },
      spentUsd: rows.reduce((sum, row) => sum + (row.costUsd ?? 0), 0),
      budgetUsd: state.budget.run,
      elapsedMs: started === null ? 0 : Math.max(0, (ended ?? now) - started),
      remainingMs: null,
      estimate: "no estimate in the progress comment",
      paused: state.paused,
      held: state.parked === null ? null : `usage limit of ${state.parked.account} until ${state.parked.until}`,
    },
    needsYou: needs,
    rows,
    ended: state.finished !== null,
  };
}

function rowOf(record: IssueRecord, depth: number, needsYou: boolean, now: number): DashboardRow {
  const attempts = record.attempts;
  const costs = attempts.flatMap((attempt) => (attempt.costUsd === null ? [] : [attempt.costUsd]));
  const first = attempts[0];
  const last = attempts.at(-1);
  const endedAt = record.merge?.mergedAt ?? record.outcome?.at ?? (last?.endedAt !== null && last !== undefined && record.status.kind === "merged" ? last.endedAt : null);
  return {
    issue: record.number,
    title: record.title,
    depth,
    kind: record.status.kind,
    group: groupOf(record.status.kind),
    state: record.status.reason,
    attempt: attempts.length,
    turns: attempts.reduce((sum, attempt) => sum + attempt.turns, 0),
    costUsd: costs.length === 0 ? null : costs.reduce((a, b) => a + b, 0),
    elapsedMs: first === undefined ? null : Math.max(0, (endedAt === null ? now : Date.parse(endedAt)) - Date.parse(first.startedAt)),
    pullRequest: record.pullRequest?.number ?? record.merge?.pr ?? null,
    pullRequestUrl: record.pullRequest?.url ?? null,
    needsYou,
  };
}

function groupOf(kind: IssueStatusKind): RowGroup {
  switch (kind) {
    case "merged":
      return "merged";
    case "failed":
      return "failed";
    case "blocked":
      return "blocked";
    case "waiting":
    case "warming":
    case "ready":
    case "rate-limited":
      return "waiting";
    case "working":
    case "verifying":
    case "reviewing":
    case "pr-open":
    case "merging":
    case "rebasing":
      return "working";
  }
}
