import type { NeedsYou } from "../coordinator/needs-you.ts";
import type { IssueStatusKind } from "../coordinator/state.ts";

/**
 * What a live view of a coordinated run shows, computed from the run's state
 * alone (pure: the ink dashboard, `status --watch` and the parent issue's
 * progress comment all render this). Built by `dashboardModel` in
 * ./build.ts; renderers never look at the coordinator's state themselves.
 */
export interface DashboardModel {
  readonly runId: string | null;
  readonly featureBranch: string | null;
  readonly header: DashboardHeader;
  /** Run-wide causes first, then issues in merge order (needs-you.ts). */
  readonly needsYou: readonly NeedsYou[];
  /** One row per issue in dependency order, drawn as a tree (`depth`). */
  readonly rows: readonly DashboardRow[];
  /** The run has ended (every issue settled, or it was abandoned): the view stops following. */
  readonly ended: boolean;
}

export interface DashboardHeader {
  readonly counts: { readonly merged: number; readonly working: number; readonly waiting: number; readonly failed: number; readonly blocked: number };
  /** US dollars spent so far, and the run's ceiling (null: no budget). */
  readonly spentUsd: number;
  readonly budgetUsd: number | null;
  readonly elapsedMs: number;
  /** Estimated time left along the critical path, null until there is something to estimate from (`estimate` says how). */
  readonly remainingMs: number | null;
  /** How `remainingMs` was computed, in words, for the view's footer and `--json`. */
  readonly estimate: string;
  /** The whole run is paused by the operator. */
  readonly paused: boolean;
  /** Why nothing launches right now, run-wide (a usage limit, the budget), or null. */
  readonly held: string | null;
}

/** The coarse groups the header counts and the colours follow. */
export type RowGroup = "merged" | "working" | "waiting" | "failed" | "blocked";

export interface DashboardRow {
  readonly issue: number;
  readonly title: string;
  /** Indentation in the tree: 0 for an issue with no dependency in the run, else 1 + its first dependency's depth. */
  readonly depth: number;
  /** The core's status kind, for colour and filtering. */
  readonly kind: IssueStatusKind;
  readonly group: RowGroup;
  /** The state in words: "waiting on #12", "stacked on issue-12", "parked: usage limit until 14:05", "verifying on feature/login + #11", "queued to merge, 2nd". */
  readonly state: string;
  /** The attempt under way or last made (0: none yet). */
  readonly attempt: number;
  readonly turns: number;
  readonly costUsd: number | null;
  /** From its first launch to now, or to when it ended; null before it starts. */
  readonly elapsedMs: number | null;
  readonly pullRequest: number | null;
  readonly pullRequestUrl: string | null;
  /** The issue is listed in `needsYou`. */
  readonly needsYou: boolean;
  /** When the usage limit holding it ends (ISO 8601), so a view can show it in local time; null or absent otherwise. */
  readonly until?: string | null;
}
