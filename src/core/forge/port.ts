import type { CheckResult } from "../doctor/checks.ts";
import type { Issue } from "../issues/issue.ts";
import type { IssueFilter } from "../issues/selection.ts";

/**
 * Where issues, branches and pull requests live. Two products implement it
 * (src/adapters/forge/local: markdown issues and a bare repository;
 * src/adapters/forge/github: the GitHub REST API) and one contract suite
 * (test/contract/forge-contract.ts) holds both to the same behaviour.
 * The types carry only the fields cspace reads.
 */
export interface Forge {
  /** `owner/name` for GitHub, null for the local forge: refs naming it are internal. */
  readonly repo: string | null;
  /**
   * True when listing every issue costs about what one narrower listing does
   * (the local forge reads one directory either way): a caller that needs
   * issues and their dependencies then lists everything once instead of
   * following dependencies one read at a time.
   */
  readonly listsEveryIssueAtOnce: boolean;

  /** Whether the forge is usable, as `cspace doctor` reports it; never throws for a problem it can describe. */
  check(): Promise<readonly ForgeCheck[]>;

  // Issues
  listIssues(query: IssueQuery): Promise<IssueListing>;
  getIssue(number: number): Promise<Issue>;
  closeIssue(number: number): Promise<void>;
  /** Adds a comment to an issue and returns it (with the id that `updateComment` takes). */
  commentOnIssue(number: number, body: string): Promise<IssueComment>;

  // Branches (names without `refs/heads/`)
  /** The head sha, or null when the branch does not exist. */
  branchHead(branch: string): Promise<string | null>;
  /** Fails with `ForgeConflictError` if the branch already exists at another sha; succeeds if it exists at `sha`. */
  createBranch(branch: string, sha: string): Promise<void>;
  /** Moves a branch only if it is still at `expectedSha` (else `HeadMovedError`); `force` allows non-fast-forward. */
  moveBranch(branch: string, sha: string, options: { readonly expectedSha: string; readonly force: boolean }): Promise<void>;
  /** Deletes a branch if it is at `expectedSha` (else `HeadMovedError`); a missing branch is not an error. */
  deleteBranch(branch: string, options: { readonly expectedSha: string | null }): Promise<void>;
  /**
   * The branch work integrates into when nothing else names one: the
   * repository's default branch (GitHub), or the project checkout's
   * (the local forge: origin/HEAD, else the branch checked out, else main).
   */
  defaultBranch(): Promise<string>;

  // Pull requests
  /** The newest pull request whose head is `branch` (any state), or null. */
  findPullRequest(headBranch: string): Promise<PullRequest | null>;
  /** Opens a pull request, or updates title/body/base of the open one for this head. */
  openPullRequest(request: PullRequestDraft): Promise<PullRequest>;
  /** Reads a pull request with mergeability (polling while the forge computes it). */
  getPullRequest(number: number): Promise<PullRequest>;
  retargetPullRequest(number: number, base: string): Promise<PullRequest>;
  /**
   * Squash-merges only if the head is still `expectedHeadSha` (else `HeadMovedError`),
   * returns the squash commit's sha. Not mergeable → `ForgeConflictError`.
   */
  squashMerge(number: number, options: SquashMergeOptions): Promise<MergeResult>;

  /** The combined state of required checks for a commit. */
  checksFor(sha: string): Promise<ChecksSummary>;

  // Parent issues and comments kept up to date (issue 15)
  /**
   * The sub-issues of issue `parent`, in the forge's order (GitHub: the
   * parent's sub-issue list; the local forge: issues whose front matter says
   * `parent: <N>`, by number), whatever their state. A missing parent is
   * `ForgeNotFoundError`; a parent without sub-issues answers none.
   */
  subIssues(parent: number): Promise<SubIssueListing>;
  /** Every comment on an issue, oldest first (a missing issue is `ForgeNotFoundError`). */
  listComments(number: number): Promise<readonly IssueComment[]>;
  /** Replaces the body of comment `commentId` on issue `number`, in place; a missing one is `ForgeNotFoundError`. */
  updateComment(number: number, commentId: number, body: string): Promise<IssueComment>;
}

export interface IssueComment {
  /** The forge's id: GitHub's comment id; the local forge's position in the issue's comments file, from 1. */
  readonly id: number;
  readonly body: string;
}

export interface SubIssueListing {
  /** This repository's sub-issues, in the forge's order. */
  readonly numbers: readonly number[];
  /** What was left out and why, one sentence each (a sub-issue in another repository). */
  readonly notices: readonly string[];
}

export interface IssueQuery extends IssueFilter {
  /** When given, exactly these issues (an unknown one is `ForgeNotFoundError`). */
  readonly numbers?: readonly number[] | undefined;
}

export interface IssueListing {
  readonly issues: readonly Issue[];
  /**
   * What the forge skipped or wants the user to know, one sentence each, for
   * warnings: `ignored .cspace/issues/notes.md: issue files are named <number>.md`.
   */
  readonly notices: readonly string[];
}

/** One line of `cspace doctor` about the forge: `forge` (reachable, signed in), and `squash-merge` where the forge has that setting. */
export type ForgeCheck = CheckResult & { readonly id: "forge" | "squash-merge" };

export type PullRequestState = "open" | "closed" | "merged";

/**
 * Whether the pull request can merge now: `unknown` while the forge still
 * computes it. Meaningful for open pull requests only: a merged or closed one
 * reports `unknown` (the local forge) and is never polled for it.
 */
export type Mergeability = "mergeable" | "conflicting" | "unknown";

export interface PullRequest {
  readonly number: number;
  readonly title: string;
  readonly head: string;
  readonly base: string;
  readonly headSha: string;
  readonly state: PullRequestState;
  readonly mergeability: Mergeability;
  /** Paths in conflict when known (the local forge knows them; GitHub does not say). */
  readonly conflicts: readonly string[];
  /** The squash commit, once merged. */
  readonly mergeSha: string | null;
  readonly url: string;
}

export interface PullRequestDraft {
  readonly head: string;
  readonly base: string;
  readonly title: string;
  readonly body: string;
}

export interface SquashMergeOptions {
  readonly expectedHeadSha: string;
  readonly title: string;
  readonly message: string;
}

export interface MergeResult {
  readonly sha: string;
}

export type ChecksState = "success" | "pending" | "failure" | "none";

export interface ChecksSummary {
  readonly state: ChecksState;
  /** Names of checks that failed or are pending, for messages. */
  readonly details: readonly string[];
}
