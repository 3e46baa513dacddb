import type { DependencyState } from "../plan/planner.ts";

/**
 * What the prompt templates are given. One type per template kind, all
 * extending {@link CommonTemplateData}. Optional fields may be left out by
 * the caller: before rendering, every field the catalogue names is filled in
 * (absent ones as null), because strict handlebars throws on a missing field
 * and a template tests optional ones with `{{#if …}}`.
 */

export const templateKinds = ["implementer", "review", "rebase", "retry", "nudge"] as const;
export type TemplateKind = (typeof templateKinds)[number];

export interface TemplateIssue {
  readonly number: number;
  readonly title: string;
  readonly body: string;
  /** Where a person reads it: the forge's page; null for the local forge. */
  readonly url?: string | null | undefined;
  readonly labels: readonly string[];
}

export interface TemplateDependency {
  readonly number: number;
  readonly title: string;
  readonly state: DependencyState;
  /** `issue-<N>`; null for another repository's issue, which has no branch here. */
  readonly branch?: string | null | undefined;
}

export interface CommonTemplateData {
  readonly issue: TemplateIssue;
  /** The branch the agent works on and commits to: `issue-<N>`. */
  readonly branch: string;
  /** What `branch` started from: the feature branch, or a dependency's branch when stacked. */
  readonly baseBranch: string;
  /** Where the finished work is merged. */
  readonly featureBranch: string;
  readonly dependencies: readonly TemplateDependency[];
  /** `verify.all`, run before finishing; absent when the project sets none. */
  readonly verifyCommand?: string | null | undefined;
  /** `verify.e2e`; absent when the project sets none. */
  readonly e2eCommand?: string | null | undefined;
  /** `owner/name` on GitHub; null for the local forge. */
  readonly repo: string | null;
  /** The instance's name, as `cspace send` and `cspace logs` know it. */
  readonly instance: string;
  /** The text of the project's `.cspace/context.md`, when it has one. */
  readonly context?: string | null | undefined;
  /** The commit `branch` really starts from (an abbreviated sha), when known. */
  readonly baseSha?: string | null | undefined;
  /** When stacked: what `baseBranch` holds over `featureBranch`, its verified commits, newest first. */
  readonly baseCommits?: readonly TemplateCommit[] | undefined;
  /** `branch` already held work from an earlier run: its commits, and how cspace carried them over. */
  readonly earlierWork?: TemplateEarlierWork | null | undefined;
}

export interface TemplateCommit {
  /** Abbreviated. */
  readonly sha: string;
  readonly title: string;
}

export interface TemplateEarlierWork {
  /** The earlier run's commits, as they are in the checkout now, newest first. */
  readonly commits: readonly TemplateCommit[];
  /** True: replayed onto the current `baseBranch`; false: left on the base they were made on (the replay conflicted). */
  readonly restacked: boolean;
}

export type ImplementerData = CommonTemplateData;

export interface ReviewData extends CommonTemplateData {
  /** The pull request, when one is open. */
  readonly pullRequestUrl?: string | null | undefined;
  /** `git diff --stat` of the branch against its base, or another short summary of the change. */
  readonly diffSummary?: string | null | undefined;
}

export interface RebaseData extends CommonTemplateData {
  /** The branch to rebase onto. */
  readonly onto: string;
  /**
   * Where the branch's own commits begin: the old base's head, recorded before
   * that base was squash-merged. When set, only the commits after it are
   * replayed (`git rebase --onto <onto> <from>`); the old base's commits are
   * already in `onto` as the squash.
   */
  readonly from?: string | null | undefined;
  /** Files in conflict, when known (from a restack that stopped); empty when not. */
  readonly paths?: readonly string[] | undefined;
}

/**
 * Why an attempt is retried. `verify`/`e2e`: the command failed in the
 * container; `checks`: the forge's required checks failed; `agent-exit`: the
 * agent exited non-zero; `crash`: it was killed (signal, out of memory);
 * `no-commits`: it exited 0 with nothing committed; `lost`: the container or
 * supervisor disappeared; `stopped`: the issue was stopped without a failed
 * run (its agent said it was blocked, the operator skipped it, or it failed
 * outside an attempt) and the operator asked for another attempt (`retry N`).
 */
export const failureKinds = ["verify", "e2e", "checks", "agent-exit", "crash", "no-commits", "lost", "stopped"] as const;
export type FailureKind = (typeof failureKinds)[number];

export interface RetryFailure {
  readonly kind: FailureKind;
  /** One line: what happened ("npm test exited 1", "killed by SIGKILL"). */
  readonly summary?: string | null | undefined;
  /** The command that failed, for verify and e2e. */
  readonly command?: string | null | undefined;
  /** The last lines of its output. */
  readonly output?: string | null | undefined;
}

export interface RetryData extends CommonTemplateData {
  /** This attempt, counting from 1 (so a first retry is attempt 2). */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly failure: RetryFailure;
}

/** The message a silent agent is sent (core/coordinator/stalls.ts): not a prompt, a short reminder in its session. */
export interface NudgeData extends CommonTemplateData {
  /** Whole minutes since the agent last said anything, as the coordinator saw it. */
  readonly minutesSilent: number;
  /** The agent's last event in its worker's log (its type and text, one line, shortened); absent when it wrote none. */
  readonly lastEvent?: string | null | undefined;
}

export interface TemplateDataByKind {
  readonly implementer: ImplementerData;
  readonly review: ReviewData;
  readonly rebase: RebaseData;
  readonly retry: RetryData;
  readonly nudge: NudgeData;
}

export type TemplateDataFor<K extends TemplateKind> = TemplateDataByKind[K];
