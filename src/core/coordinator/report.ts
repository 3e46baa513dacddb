import { runOverBudget } from "./budget.ts";
import type { LogProblem } from "./log.ts";
import { issueParkedMs, runParkedMs } from "./usage-limits.ts";
import type { EgressDenials } from "../network/denials.ts";
import { predictionReport, type PredictionReport } from "./predictions.ts";
import { isMerged } from "./queries.ts";
import type { CoordinatorState, IssueRecord, IssueStatusKind } from "./state.ts";
import type { CoordinatorEvent } from "./events.ts";
import { runReview, type RunReview } from "./review.ts";
import { timeSplits, type TimeSplit } from "./time-splits.ts";
import type { Failure } from "./vocabulary.ts";
import { NO_STALLS, type StallCounts } from "./stalls.ts";

/** One line of the final table (stdout, `--json`, and the markdown copy in the run directory). */
export interface ReportRow {
  readonly issue: number;
  readonly title: string;
  readonly pullRequest: number | null;
  readonly pullRequestUrl: string | null;
  /** The branch it started on: the feature branch, or the dependency's branch it stacked on. Null if it never started. */
  readonly base: string | null;
  readonly status: IssueStatusKind;
  readonly reason: string;
  /**
   * The attempts `coordinator.maxAttempts` speaks of (README): every run of the agent on the issue (its first, a
   * retry, a rebase, a review, a relaunch after a lost worker), but not a `cspace restart` (it carries the attempt
   * on) nor a relaunch after a usage limit (the same attempt, sent again once the account is back).
   */
  readonly attempts: number;
  readonly failedAttempts: number;
  readonly turns: number;
  /** US dollars; null when no attempt's agent told its cost. */
  readonly costUsd: number | null;
  /** Some of `costUsd` is an estimate: tokens priced by `coordinator.prices` (the agent stated no cost). */
  readonly costEstimated: boolean;
  /** From the first launch to the merge (or to when it failed or was blocked); null if it never started. */
  readonly wallMs: number | null;
  /** Time it waited for its agent's account to come back from a usage limit (usage-limits.ts). */
  readonly parkedMs: number;
  readonly squashSha: string | null;
  /** The worker host its instance was last made on (`workers.hosts`); null when the run recorded none. */
  readonly host: string | null;
  /**
   * Where its time in the run went (time-splits.ts): working, waiting on dependencies, for a slot, parked,
   * verifying, waiting to merge. Present when the report was made from the run's events (the final report,
   * `cspace report`), absent in `cspace status`'s.
   */
  readonly time?: TimeSplit | undefined;
  /** A failed issue's last failed attempt's failure (what failed, its command and the end of its output); null otherwise. */
  readonly failure?: Failure | null;
  /** Stall steps taken for it (stalls.ts): nudges, restarts, escalations to a person. */
  readonly stalls: StallCounts;
}

export interface RunReport {
  readonly runId: string | null;
  readonly featureBranch: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly wallMs: number | null;
  readonly exitCode: 0 | 1;
  /** The operator paused the whole run (`cspace send _coordinator "pause"`) and has not resumed it. */
  readonly paused: boolean;
  /** Time the agent's account was parked by usage limits, and the park still on (null when none). */
  readonly parkedMs: number;
  readonly parked: { readonly account: string; readonly until: string; readonly message: string | null } | null;
  /** Why no agent starts because the run spent its budget; null when it may. */
  readonly overBudget: string | null;
  /** Why the run was given up before its end (`cspace coordinate --abandon`, a start that failed); null otherwise. */
  readonly abandoned: string | null;
  /** Events of its log that could not be applied, by sequence number: the table is what the rest says. */
  readonly problems: readonly LogProblem[];
  readonly rows: readonly ReportRow[];
  readonly totals: {
    readonly merged: number;
    readonly failed: number;
    readonly blocked: number;
    readonly turns: number;
    readonly costUsd: number | null;
  };
  /**
   * What the egress proxy refused workers during the run (container.network
   * allowlist): read from the proxy's log when the report is made, not from
   * the run's events. Absent when the project has no allowlist.
   */
  readonly egressDenied?: EgressDenials | undefined;
  /** Conflicts seen coming (predictions.ts): predicted, came true and how early, false alarms, missed, issues held now. */
  readonly predictions?: PredictionReport | undefined;
  /** The after-action review (review.ts), drawn from the run's events; absent when the report was made from its state alone. */
  readonly review?: RunReview | undefined;
}

/** The exit code rule: 0 when every issue of the run merged, 1 otherwise. */
export function exitCodeOf(state: CoordinatorState): 0 | 1 {
  return Object.values(state.issues).every(isMerged) ? 0 : 1;
}

export function reportRows(state: CoordinatorState): ReportRow[] {
  return Object.values(state.issues)
    .sort((a, b) => a.number - b.number)
    .map((issue) => row(state, issue));
}

/** The report; given the run's events too (the log as read), its rows say where their time went and it ends with the review. */
export function runReport(state: CoordinatorState, problems: readonly LogProblem[] = [], events?: readonly CoordinatorEvent[]): RunReport {
  const times = events === undefined ? null : timeSplits(events);
  const rows = reportRows(state).map((row) => {
    const time = times?.issues[row.issue];
    return time === undefined ? row : { ...row, time };
  });
  const finishedAt = state.finished?.at ?? null;
  const costs = rows.map((r) => r.costUsd).filter((cost): cost is number => cost !== null);
  return {
    runId: state.run?.runId ?? null,
    featureBranch: state.run?.settings.featureBranch ?? null,
    startedAt: state.run?.startedAt ?? null,
    finishedAt,
    wallMs: between(state.run?.startedAt ?? null, finishedAt ?? state.lastEventAt),
    exitCode: exitCodeOf(state),
    paused: state.paused && state.finished === null,
    parkedMs: runParkedMs(state, finishedAt ?? state.lastEventAt),
    parked: state.parked === null || state.finished !== null ? null : { account: state.parked.account, until: state.parked.until, message: state.parked.message },
    overBudget: state.finished === null ? runOverBudget(state) : null,
    abandoned: state.finished?.abandoned ?? null,
    problems,
    rows,
    totals: {
      merged: rows.filter((r) => r.status === "merged").length,
      failed: rows.filter((r) => r.status === "failed").length,
      blocked: rows.filter((r) => r.status === "blocked").length,
      turns: rows.reduce((sum, r) => sum + r.turns, 0),
      costUsd: costs.length === 0 ? null : roundCents(costs.reduce((sum, cost) => sum + cost, 0)),
    },
    predictions: predictionReport(state),
    ...(events === undefined || times === null ? {} : { review: runReview(events, undefined, times) }),
  };
}

function row(state: CoordinatorState, issue: IssueRecord): ReportRow {
  const costs = issue.attempts.map((a) => a.costUsd).filter((cost): cost is number => cost !== null);
  const first = issue.attempts[0];
  const last = issue.attempts[issue.attempts.length - 1];
  const end = issue.merge?.mergedAt ?? issue.outcome?.at ?? last?.endedAt ?? state.lastEventAt;
  return {
    issue: issue.number,
    title: issue.title,
    pullRequest: issue.pullRequest?.number ?? issue.merge?.pr ?? null,
    pullRequestUrl: issue.pullRequest?.url ?? null,
    base: first?.base ?? null,
    status: issue.status.kind,
    reason: issue.status.reason,
    attempts: issue.attempts.filter((attempt) => attempt.end !== "rate-limited").length,
    failedAttempts: issue.attempts.filter((a) => a.failure !== null).length,
    turns: issue.attempts.reduce((sum, a) => sum + a.turns, 0),
    costUsd: costs.length === 0 ? null : roundCents(costs.reduce((sum, cost) => sum + cost, 0)),
    costEstimated: issue.attempts.some((a) => a.costEstimated === true && a.costUsd !== null),
    wallMs: first === undefined ? null : between(first.startedAt, end),
    parkedMs: issueParkedMs(issue, state.lastEventAt),
    squashSha: issue.merge?.squashSha ?? null,
    host: issue.host,
    failure: issue.outcome?.kind === "failed" ? ([...issue.attempts].reverse().find((attempt) => attempt.failure !== null)?.failure ?? null) : null,
    stalls: issue.stalls ?? NO_STALLS,
  };
}

function between(from: string | null, to: string | null): number | null {
  if (from === null || to === null) return null;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isNaN(ms) ? null : Math.max(0, ms);
}

// Sums of float dollars drift (0.1 + 0.2); a report shows cents.
function roundCents(amount: number): number {
  return Math.round(amount * 10_000) / 10_000;
}
