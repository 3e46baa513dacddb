import type { FailureKind } from "../templates/data.ts";

/**
 * The words events, state and actions share. Everything here is plain JSON:
 * events are stored as JSON and replayed, so no Map, Set, Date or undefined
 * field that would not survive the round trip.
 */

/** What a run was started with; recorded once in `RunStarted`, so a resumed run decides exactly as before. */
export interface RunSettings {
  /** Where finished work is merged. */
  readonly featureBranch: string;
  /** Agents running at once (open attempts), at least 1. */
  readonly maxParallel: number;
  /** Failed attempts an issue may have before it fails. */
  readonly maxAttempts: number;
  /** Whether a verified head gets a review pass by the same worker before it may merge. */
  readonly review: boolean;
  /** Whether an issue may start on its one unmerged dependency's branch (design.md §4); false waits for the merge. */
  readonly stacking: boolean;
  /** What a usage limit does (`coordinator.onUsageLimit`): wait for the reset (absent: wait), or fail the issues it stops. */
  readonly onUsageLimit?: "wait" | "fail";
  /** `verify.all` and `verify.e2e`; null when the project sets none (the head then counts as verified once pushed). */
  readonly verify: { readonly all: string | null; readonly e2e: string | null };
  /**
   * Only verified trees land (rules-verification.ts): each merge candidate is verified merged into the feature
   * branch's tip first. Absent (a run recorded before this existed): off, as that run decided.
   */
  readonly verifyLanding?: boolean;
  /**
   * Merge candidates verified at once as a train (`coordinator.train`): the first on the tip, each next one on the
   * tip with the cars before it merged. Absent (a run recorded before trains): 1, one at a time.
   */
  readonly train?: number;
  /**
   * Minutes of agent silence before a stall step (`coordinator.stallMinutes`; stalls.ts). Absent (a run recorded
   * before stalls were watched): none are.
   */
  readonly stallMinutes?: number;
  /**
   * Agents each worker host runs at once (`workers.hosts[].slots`), by host name, when more than the local engine is
   * configured: a launch waits while its instance's host is full, even with `maxParallel` free. Absent (one host, or
   * a run recorded before hosts): only `maxParallel` bounds launches.
   */
  readonly hostSlots?: Readonly<Record<string, number>>;
}

/** A merge candidate's head, as a car of the merge train (rules-verification.ts). */
export interface TrainCar {
  readonly issue: number;
  readonly headSha: string;
}

/** The dependency graph as the run saw it: the selected issues and, transitively, what they depend on. */
export interface GraphSnapshot {
  readonly nodes: readonly GraphSnapshotNode[];
  /** Topological order (dependencies first, ascending inside a round), as `DependencyGraph.order`. */
  readonly order: readonly number[];
}

export interface GraphSnapshotNode {
  readonly number: number;
  /** This repository's issues it depends on, ascending. */
  readonly dependencies: readonly number[];
  /** Other repositories' issues, `owner/repo#N`. */
  readonly external: readonly string[];
}

/** Why an attempt (one run of the agent) started. */
export type AttemptWhy = "initial" | "retry" | "rebase" | "review";

/** A failure as the retry template shows it; every field present, so it survives JSON unchanged. */
export interface Failure {
  readonly kind: FailureKind;
  /** One line: what happened ("npm test exited 1", "killed by SIGKILL"). */
  readonly summary: string;
  /** The command that failed, for verify and e2e. */
  readonly command: string | null;
  /** The last lines of its output. */
  readonly output: string | null;
}

/** Where a rebase was asked for: a mechanical restack stopped on a conflict, or the forge calls the pull request conflicting. */
export type RebaseCause = "restack-conflict" | "pull-request-conflict";

/**
 * What an attempt is told: one template kind each, with what that template
 * needs beyond the common data (issue, branch, base, dependencies, commands),
 * which the runtime fills in from the issue and the config.
 */
export type LaunchPrompt =
  | { readonly kind: "implementer" }
  | {
      readonly kind: "retry";
      /** The try this is, counting from 1 (a first retry is 2), as the template shows it. */
      readonly attempt: number;
      readonly maxAttempts: number;
      readonly failure: Failure;
    }
  | {
      readonly kind: "rebase";
      /** The branch to rebase onto. */
      readonly onto: string;
      /** Its head when the rebase was asked for; null when the runtime should take the branch's head. */
      readonly ontoSha: string | null;
      /** Where the branch's own commits begin (the old parent head); null when the agent rebases plainly. */
      readonly from: string | null;
      /** Files in conflict, when known. */
      readonly paths: readonly string[];
      readonly cause: RebaseCause;
    }
  | {
      readonly kind: "review";
      /** The verified head to review. */
      readonly headSha: string;
      readonly pullRequestUrl: string | null;
    };

export type PromptKind = LaunchPrompt["kind"];

/** The attempt kind a prompt starts. */
export function whyOf(prompt: LaunchPrompt): AttemptWhy {
  switch (prompt.kind) {
    case "implementer":
      return "initial";
    case "retry":
      return "retry";
    case "rebase":
      return "rebase";
    case "review":
      return "review";
  }
}

/** Who or what holds a blocked issue. */
export type BlockedBy =
  /** A dependency in this run failed or is blocked. */
  | { readonly kind: "dependency"; readonly issue: number }
  /** A dependency outside this run (not selected, or another repository's) is not closed. */
  | { readonly kind: "outside"; readonly ref: string }
  /** The worker said it cannot go on. */
  | { readonly kind: "worker" }
  /** `cspace send _coordinator "skip …"`. */
  | { readonly kind: "operator" }
  /** The feature branch alone fails verify at `sha`: every candidate would fail on it (rules-verification.ts). */
  | { readonly kind: "base"; readonly sha: string };

/** A branch stacked on the one being merged, and the sha its own commits start after, recorded before the merge. */
export interface StackedParent {
  readonly issue: number;
  readonly branch: string;
  readonly parentSha: string | null;
}

/** `issue-<N>`: the instance, and the branch its agent works on. */
export function branchOf(issue: number): string {
  return `issue-${String(issue)}`;
}
