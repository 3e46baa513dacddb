import type { CoordinatorState, IssueRecord } from "./state.ts";
import { stalledForGood } from "./stalls.ts";

/** Why a run waits on a person rather than on its workers. */
export type NeedsYouKind = "failed" | "blocked-by-worker" | "red-base" | "landing-mismatch" | "stalled";

/**
 * One thing only a person can unblock. `cause` names it exactly once: the
 * same failure seen again has the same cause (a notification is sent once
 * per cause), while a retry that fails again is a new cause, because its
 * attempt count is part of it.
 */
export interface NeedsYou {
  readonly kind: NeedsYouKind;
  /** The issue it concerns; null for what holds the whole run (a red base, a squash that landed as another tree). */
  readonly issue: number | null;
  readonly cause: string;
  /** One line for people, saying what happened; the dashboard and notifications show it as is. */
  readonly reason: string;
}

/**
 * What needs a person now, run-wide causes first, then issues in merge
 * order: issues a worker said it cannot finish, issues that failed, a
 * feature branch that fails verify on its own (every candidate waits on it),
 * and a squash that landed as a tree nobody verified (the run stops merging).
 * Issues blocked by a dependency or skipped by the operator are not listed:
 * the cause is elsewhere, or the person already decided.
 */
export function needsYou(state: CoordinatorState): readonly NeedsYou[] {
  const runWide: NeedsYou[] = [];
  const perIssue: NeedsYou[] = [];
  const mismatch = state.landingMismatch;
  if (mismatch !== undefined) {
    runWide.push({ kind: "landing-mismatch", issue: null, cause: "landing-mismatch", reason: `#${String(mismatch.issue)}'s squash ${mismatch.squashSha.slice(0, 7)} landed as a tree that was not verified: merging has stopped` });
  }
  const redBases = new Set<string>();
  for (const issue of state.run?.order ?? Object.keys(state.issues).map(Number)) {
    const record = state.issues[issue];
    if (record === undefined) continue;
    const outcome = record.outcome;
    if (outcome?.kind === "failed") {
      perIssue.push({ kind: "failed", issue, cause: causeOf("failed", record), reason: outcome.reason });
    } else if (outcome?.kind === "blocked" && outcome.by.kind === "worker") {
      perIssue.push({ kind: "blocked-by-worker", issue, cause: causeOf("blocked-by-worker", record), reason: outcome.reason });
    } else if (outcome?.kind === "blocked" && outcome.by.kind === "base" && !redBases.has(outcome.by.sha)) {
      redBases.add(outcome.by.sha);
      runWide.push({ kind: "red-base", issue: null, cause: `red-base:${outcome.by.sha}`, reason: outcome.reason });
    }
  }
  // Agents silent through a nudge and a restart (stalls.ts): one cause per attempt, gone once the agent speaks again.
  for (const issue of state.run?.order ?? Object.keys(state.issues).map(Number)) {
    const record = state.issues[issue];
    const stall = record === undefined ? null : stalledForGood(record);
    if (record === undefined || stall === null) continue;
    const silent = stall.stepAt === null ? "" : ` since ${stall.quietSince}`;
    perIssue.push({
      kind: "stalled",
      issue,
      cause: `stalled:${String(issue)}:${String(stall.attempt)}`,
      reason: `#${String(issue)}'s agent (attempt ${String(stall.attempt)}) has said nothing${silent}, through a nudge and a restart: look at cspace logs issue-${String(issue)}; skip ${String(issue)} or wait`,
    });
  }
  return [...runWide, ...perIssue];
}

function causeOf(kind: NeedsYouKind, record: IssueRecord): string {
  return `${kind}:${String(record.number)}:${String(record.attempts.length)}`;
}
