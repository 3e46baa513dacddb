import { duration } from "../coordinator-runtime/report-table.ts";
import { SHOWN_TEXT_CHARS, shownText } from "../messaging/shown-text.ts";
import type { CoordinatorEvent } from "./events.ts";
import { predictionReport, shownPaths } from "./predictions.ts";
import { apply, initialState, type CoordinatorState, type IssueRecord } from "./state.ts";
import { timeSplits, type RunTimes } from "./time-splits.ts";

/**
 * The after-action review at the end of a run's report: drawn from the event
 * log alone (never written by a model), so every line is a fact of the run
 * and every suggestion is backed by its numbers.
 *
 * - the critical path: the chain of issues whose merges gated the issue that
 *   settled last, each with when it started and settled;
 * - what went wrong, in the order it happened: failed attempts and what was
 *   decided, rebases, conflicts (predicted or not), verify failures, stalls,
 *   lost workers, usage limits, actions given up, a red feature branch;
 * - what would have helped, computed: a long wait on a dependency, a conflict
 *   between issues nothing ordered, one verify command failing on several
 *   issues, issues queued for a slot.
 */
export interface RunReview {
  /** First the issue nothing gated further, last the issue that settled last; empty when no issue settled. */
  readonly criticalPath: readonly CriticalStep[];
  readonly wentWrong: readonly Finding[];
  readonly suggestions: readonly Suggestion[];
}

export interface CriticalStep {
  readonly issue: number;
  readonly title: string;
  /** Its first agent's start; null when none started (it was closed before the run). */
  readonly startedAt: string | null;
  /** When it merged, failed or was blocked; null when the run ended first. */
  readonly settledAt: string | null;
  readonly outcome: "merged" | "failed" | "blocked" | "unfinished";
  /** How long the next step waited on this one (0 for the last step). */
  readonly gatedMs: number;
  /** Its agents' running time. */
  readonly workingMs: number;
}

export type FindingKind = "retry" | "failed" | "blocked" | "rebase" | "conflict" | "verify" | "stall" | "lost" | "usage-limit" | "given-up" | "red-base";

export interface Finding {
  readonly kind: FindingKind;
  readonly issue: number | null;
  readonly at: string;
  /** One line for people; a worker's words in it are shortened, on one line, without control characters. */
  readonly text: string;
}

export type SuggestionKind = "split-dependency" | "order-conflicting" | "shared-verify-failure" | "more-slots";

export interface Suggestion {
  readonly kind: SuggestionKind;
  readonly issues: readonly number[];
  readonly text: string;
}

/** When a number is worth a suggestion: a wait of at least `minWaitMs` and at least `waitShare` of the run's wall time. */
export interface ReviewThresholds {
  readonly minWaitMs: number;
  readonly waitShare: number;
}

export const DEFAULT_REVIEW_THRESHOLDS: ReviewThresholds = { minWaitMs: 5 * 60_000, waitShare: 0.2 };

/** What the review says of each step of the stall watchdog (fold-stalls.ts). */
const STALL_WORDS = {
  StallNudged: "was silent past coordinator.stallMinutes and was nudged",
  StallRestarted: "stayed silent and its attempt was restarted",
  StallEscalated: "stayed silent after a restart: it needs you",
} as const;

export function runReview(events: readonly CoordinatorEvent[], thresholds: ReviewThresholds = DEFAULT_REVIEW_THRESHOLDS, times: RunTimes = timeSplits(events)): RunReview {
  const walk = walkLog(events);
  const { state } = walk;
  const start = Date.parse(state.run?.startedAt ?? "");
  const end = Date.parse(state.finished?.at ?? state.lastEventAt ?? "");
  const wallMs = Number.isNaN(start) || Number.isNaN(end) ? 0 : Math.max(0, end - start);
  return {
    criticalPath: criticalPath(state, times),
    wentWrong: [...walk.findings, ...predictionFindings(state)],
    suggestions: [
      ...dependencySuggestions(state, times, wallMs, thresholds),
      ...conflictSuggestions(state, walk.conflicts),
      ...verifySuggestions(walk.verifyFailures),
      ...slotSuggestions(state, times, wallMs, thresholds),
    ],
  };
}

/** "+1h02m": a time as an offset from the run's start, as the review shows times. */
export function sinceStart(state: CoordinatorState, at: string | null): string {
  if (at === null) return "-";
  const ms = Date.parse(at) - Date.parse(state.run?.startedAt ?? "");
  return Number.isNaN(ms) ? "-" : `+${duration(Math.max(0, ms))}`;
}

/** The issue that settled last, then, back from it, the dependency it waited on longest, until one waited on none. */
function criticalPath(state: CoordinatorState, times: RunTimes): CriticalStep[] {
  const records = Object.values(state.issues).filter((record) => record.attempts.length > 0);
  const last = records.reduce<IssueRecord | null>((latest, record) => {
    const at = settledAt(record);
    if (at === null) return latest;
    const latestAt = latest === null ? null : settledAt(latest);
    return latestAt === null || Date.parse(at) > Date.parse(latestAt) ? record : latest;
  }, null);
  if (last === null) return [];
  const chain: CriticalStep[] = [];
  const seen = new Set<number>();
  let current: IssueRecord | undefined = last;
  let gatedMs = 0;
  while (current !== undefined && !seen.has(current.number)) {
    seen.add(current.number);
    chain.unshift(step(current, times, gatedMs));
    const waits: Readonly<Record<number, number>> = times.waitedOn[current.number] ?? {};
    const longest: { issue: number; ms: number } | null = current.dependencies.reduce<{ issue: number; ms: number } | null>((best, d) => {
      const ms = waits[d] ?? 0;
      return ms > 0 && (best === null || ms > best.ms) ? { issue: d, ms } : best;
    }, null);
    if (longest === null) break;
    gatedMs = longest.ms;
    current = state.issues[longest.issue];
  }
  return chain;
}

function step(record: IssueRecord, times: RunTimes, gatedMs: number): CriticalStep {
  const kind = record.status.kind;
  return {
    issue: record.number,
    title: record.title,
    startedAt: record.attempts[0]?.startedAt ?? null,
    settledAt: settledAt(record),
    outcome: kind === "merged" || kind === "failed" || kind === "blocked" ? kind : "unfinished",
    gatedMs,
    workingMs: times.issues[record.number]?.workingMs ?? 0,
  };
}

function settledAt(record: IssueRecord): string | null {
  return record.merge?.mergedAt ?? record.outcome?.at ?? null;
}

interface MetConflict {
  readonly issue: number;
  readonly paths: readonly string[];
  readonly at: string;
  /** The issue it conflicted with: the earlier side of a prediction it proves right, else the last merge before it; null: unknown. */
  readonly with: number | null;
}

interface VerifyFailure {
  readonly issue: number;
  readonly command: string;
}

interface LogWalk {
  readonly state: CoordinatorState;
  readonly findings: readonly Finding[];
  readonly conflicts: readonly MetConflict[];
  readonly verifyFailures: readonly VerifyFailure[];
}

/** Folds the log once, noting what went wrong as each event is applied (with the state it met). */
function walkLog(events: readonly CoordinatorEvent[]): LogWalk {
  let state = initialState();
  const findings: Finding[] = [];
  const conflicts: MetConflict[] = [];
  const verifyFailures: VerifyFailure[] = [];
  const note = (kind: FindingKind, issue: number | null, at: string, text: string): void => {
    findings.push({ kind, issue, at, text });
  };
  for (const event of events) {
    const before = state;
    state = apply(state, event);
    const when = sinceStart(state, event.at);
    const stall = stallOf(event);
    if (stall !== null) {
      note("stall", stall.issue, event.at, `#${String(stall.issue)} ${stall.text} (${when})`);
      continue;
    }
    if (event.type === "Retried") {
      note("retry", event.issue, event.at, `#${String(event.issue)} attempt ${String(event.attempt)} failed (${event.failure.kind}: ${worker(event.failure.summary)}); tried again (${when})`);
    } else if (event.type === "Failed") {
      note("failed", event.issue, event.at, `#${String(event.issue)} failed: ${worker(event.reason)} (${when})`);
    } else if (event.type === "Blocked" && (event.by.kind === "worker" || event.by.kind === "operator")) {
      note("blocked", event.issue, event.at, `#${String(event.issue)} blocked by ${event.by.kind === "worker" ? "its agent" : "the operator"}: ${worker(event.reason)} (${when})`);
    } else if (event.type === "RebaseRequested") {
      const { onto, cause, paths } = event.prompt;
      const why = cause === "restack-conflict" ? "its restack conflicted" : "the forge called its pull request conflicting";
      note("rebase", event.issue, event.at, `#${String(event.issue)} asked to rebase onto ${onto}: ${why}${paths.length === 0 ? "" : ` in ${shownPaths(paths)}`} (${when})`);
    } else if (event.type === "ConflictMet") {
      const other = conflictPartner(before, event.issue, event.predictions, event.paths);
      conflicts.push({ issue: event.issue, paths: event.paths, at: event.at, with: other });
      const withText = other === null ? "the feature branch" : `#${String(other)}`;
      const predicted = event.predictedAt === null ? "not predicted" : `predicted ${duration(Math.max(0, Date.parse(event.at) - Date.parse(event.predictedAt)))} before`;
      note("conflict", event.issue, event.at, `#${String(event.issue)} conflicted with ${withText} in ${shownPaths(event.paths)} (${event.how === "restack" ? "restack" : "the forge"}; ${predicted}) (${when})`);
    } else if (event.type === "VerifyFailed" && before.issues[event.issue]?.pushedSha === event.headSha) {
      // A result for a head that is no longer the branch's says nothing (the fold ignores it too).
      verifyFailures.push({ issue: event.issue, command: event.command });
      note("verify", event.issue, event.at, `#${String(event.issue)} verify failed: ${worker(event.command)} ${ran(event.exitCode)} (${when})`);
    } else if (event.type === "LandingFailed") {
      verifyFailures.push({ issue: event.issue, command: event.command });
      note("verify", event.issue, event.at, `#${String(event.issue)} failed verify merged into the feature branch: ${worker(event.command)} ${ran(event.exitCode)} (${when})`);
    } else if (event.type === "WorkerLost") {
      note("lost", event.issue, event.at, `#${String(event.issue)} lost its worker${event.attempt === null ? " before its agent started" : ` during attempt ${String(event.attempt)}`}: ${worker(event.reason)} (${when})`);
    } else if (event.type === "RateLimited" && before.parked === null) {
      note("usage-limit", event.issue, event.at, `#${String(event.issue)} met ${event.account}'s usage limit: launches held until ${event.until} (${when})`);
    } else if (event.type === "ActionFailed" && event.givenUp) {
      note("given-up", event.issue, event.at, `#${String(event.issue)}: ${event.action} given up after ${String(event.failures)} failures: ${worker(event.error)} (${when})`);
    } else if (event.type === "BaseVerified" && !event.passed) {
      note("red-base", null, event.at, `${event.branch} failed verify on its own at ${event.baseSha.slice(0, 7)}: every candidate waited on it (${when})`);
    }
  }
  if (state.parkedMs > 0) {
    note("usage-limit", null, state.lastEventAt ?? "", `usage limits held launches for ${duration(state.parkedMs)} in all`);
  }
  return { state, findings, conflicts, verifyFailures };
}

/** A stall watchdog's step, with the issue it concerns; null for any other event. */
function stallOf(event: CoordinatorEvent): { readonly issue: number; readonly text: string } | null {
  return event.type === "StallNudged" || event.type === "StallRestarted" || event.type === "StallEscalated" ? { issue: event.issue, text: STALL_WORDS[event.type] } : null;
}

/** The prediction summary, when any conflict was predicted or met. */
function predictionFindings(state: CoordinatorState): Finding[] {
  const p = predictionReport(state);
  if (p.predicted === 0 && p.missed === 0) return [];
  return [
    {
      kind: "conflict",
      issue: null,
      at: state.lastEventAt ?? "",
      text: `conflicts: ${String(p.predicted)} predicted, ${String(p.cameTrue)} came true, ${String(p.falseAlarms)} false alarms, ${String(p.missed)} met without a prediction`,
    },
  ];
}

/** Who an issue conflicted with: the earlier side of a prediction it proves right, else the last issue merged before. */
function conflictPartner(state: CoordinatorState, issue: number, predictions: readonly string[], paths: readonly string[]): number | null {
  const conflicts = state.predictions?.conflicts ?? [];
  const predicted = conflicts.find((c) => c.later === issue && c.earlier !== null && (predictions.includes(c.key) || c.paths.some((path) => paths.includes(path))));
  if (predicted?.earlier != null) return predicted.earlier;
  const landed = state.landed ?? [];
  const last = landed[landed.length - 1];
  return last === undefined || last.issue === issue ? null : last.issue;
}

/** "#13 waited 41m on #12 …": a dependency wait long enough, absolutely and against the run. */
function dependencySuggestions(state: CoordinatorState, times: RunTimes, wallMs: number, thresholds: ReviewThresholds): Suggestion[] {
  const floor = Math.max(thresholds.minWaitMs, wallMs * thresholds.waitShare);
  const waits: { issue: number; on: number; ms: number }[] = [];
  for (const record of Object.values(state.issues)) {
    const byDependency = times.waitedOn[record.number] ?? {};
    for (const d of record.dependencies) {
      const ms = byDependency[d] ?? 0;
      if (ms > 0 && ms >= floor) waits.push({ issue: record.number, on: d, ms });
    }
  }
  return waits
    .sort((a, b) => b.ms - a.ms)
    .map(({ issue, on, ms }) => ({
      kind: "split-dependency",
      issues: [on, issue],
      text: `#${String(issue)} waited ${duration(ms)} on #${String(on)} (${percent(ms, wallMs)} of the run) — splitting #${String(on)} would have let #${String(issue)} start earlier`,
    }));
}

/** "#7 and #9 conflicted in src/cart.ts — consider a blocked-by": a conflict between issues nothing ordered. */
function conflictSuggestions(state: CoordinatorState, conflicts: readonly MetConflict[]): Suggestion[] {
  const pairs = new Map<string, { earlier: number; later: number; paths: Set<string> }>();
  for (const conflict of conflicts) {
    if (conflict.with === null || related(state, conflict.issue, conflict.with)) continue;
    const key = `${String(conflict.with)}>${String(conflict.issue)}`;
    const pair = pairs.get(key) ?? { earlier: conflict.with, later: conflict.issue, paths: new Set<string>() };
    for (const path of conflict.paths) pair.paths.add(path);
    pairs.set(key, pair);
  }
  return [...pairs.values()].map(({ earlier, later, paths }) => ({
    kind: "order-conflicting",
    issues: [earlier, later],
    text: `#${String(earlier)} and #${String(later)} conflicted in ${shownPaths([...paths])} — consider a blocked-by (#${String(later)} blocked-by #${String(earlier)}), so #${String(later)} starts from #${String(earlier)}'s work`,
  }));
}

/** "verify failed on 3 issues for the same command": a command failing on several issues points at the command or the base. */
function verifySuggestions(failures: readonly VerifyFailure[]): Suggestion[] {
  const byCommand = new Map<string, Set<number>>();
  for (const { issue, command } of failures) byCommand.set(command, (byCommand.get(command) ?? new Set<number>()).add(issue));
  return [...byCommand]
    .filter(([, issues]) => issues.size >= 2)
    .map(([command, issues]) => {
      const numbers = [...issues].sort((a, b) => a - b);
      return {
        kind: "shared-verify-failure",
        issues: numbers,
        text: `verify failed on ${String(numbers.length)} issues (${numbers.map((n) => `#${String(n)}`).join(", ")}) for the same command, ${shownText(command, 80)} — check it passes on the feature branch and in the worker image, and that the issues tell agents how to run it`,
      };
    });
}

/** Issues ready to start that waited for a free slot, in all, long enough against the run. */
function slotSuggestions(state: CoordinatorState, times: RunTimes, wallMs: number, thresholds: ReviewThresholds): Suggestion[] {
  const waited = Object.entries(times.issues).filter(([, split]) => split.slotMs > 0);
  const total = waited.reduce((sum, [, split]) => sum + split.slotMs, 0);
  if (total === 0 || total < Math.max(thresholds.minWaitMs, wallMs * thresholds.waitShare)) return [];
  const maxParallel = state.run?.settings.maxParallel ?? 1;
  return [
    {
      kind: "more-slots",
      issues: waited.map(([n]) => Number(n)),
      text: `${String(waited.length)} issues waited ${duration(total)} in all for a free slot (coordinator.maxParallel is ${String(maxParallel)}) — a higher maxParallel would have started them sooner, if the machine and the agent's account allow`,
    },
  ];
}

/** Whether one issue depends on the other, directly or through others. */
function related(state: CoordinatorState, a: number, b: number): boolean {
  return dependsOn(state, a, b) || dependsOn(state, b, a);
}

function dependsOn(state: CoordinatorState, from: number, on: number): boolean {
  const seen = new Set<number>();
  const stack = [from];
  while (stack.length > 0) {
    const n = stack.pop();
    if (n === undefined || seen.has(n)) continue;
    seen.add(n);
    for (const d of state.issues[n]?.dependencies ?? []) {
      if (d === on) return true;
      stack.push(d);
    }
  }
  return false;
}

function percent(part: number, whole: number): string {
  return whole <= 0 ? "-" : `${String(Math.round((part / whole) * 100))}%`;
}

function ran(exitCode: number | null): string {
  return exitCode === null ? "did not finish" : `exited ${String(exitCode)}`;
}

function worker(text: string): string {
  return shownText(text, SHOWN_TEXT_CHARS);
}
