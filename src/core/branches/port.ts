/**
 * The git side of the coordinator: moving branches on the forge's remote
 * from the host, where the credentials are. Agents commit in their own
 * checkouts and never push; the coordinator pushes their work, restacks
 * stacked branches after a squash merge (design.md §4), and foresees which
 * open branches a new base will conflict with before bothering any agent.
 *
 * Implemented by src/adapters/git/remote (the local forge's bare repository,
 * or GitHub over HTTPS) and by test/fakes/branch-mover.ts; one contract suite
 * (test/contract/remote-git-contract.ts) holds all three to the same
 * behaviour. Branch names are without `refs/heads/`.
 *
 * Failures are typed like the forge's (src/core/forge/errors.ts): a lease the
 * remote refuses is a `HeadMovedError` naming the expected and the actual sha,
 * a refused token is a `ForgeUnauthorizedError`, an unreachable remote a
 * `ForgeUnavailableError`. A restack conflict is not a failure: it is a result.
 */
export interface BranchMover {
  /**
   * Brings these branches of the remote into the host's object store, so
   * checkouts made (or refreshed) afterwards see the remote's commits as
   * `origin/<branch>`. Call it after every merge with the base branch.
   * Answers each branch's sha on the remote, null when it does not exist there.
   */
  fetch(branches: readonly string[], options?: MoveOptions): Promise<ReadonlyMap<string, string | null>>;

  /**
   * Pushes the worker's `branch` (the `refs/heads/<branch>` of its checkout)
   * to the remote, only if the remote's branch is still at
   * `expectedRemoteSha` (null: it must not exist yet); a fast-forward is not
   * required. Returns the sha pushed. Pushing what the remote already has is
   * a no-op that answers the same sha, so a repeated push is harmless.
   */
  push(request: PushRequest, options?: MoveOptions): Promise<string>;

  /**
   * `git rebase --onto <onto> <oldParentHead> <branch>` on the host (never in
   * the agent's checkout), then a push with lease. The branch is read from
   * the remote first. On a conflict nothing is pushed, no rebase is left in
   * progress anywhere, and the conflicting paths are returned. A branch that
   * already sits on `onto` without the old parent's commits is answered as
   * restacked, unchanged: repeating a restack after a crash is harmless.
   */
  restack(request: RestackRequest, options?: MoveOptions): Promise<RestackResult>;

  /**
   * The paths that would conflict if `branch` were merged into (or, with
   * `oldParentHead`, restacked onto) `onto`: `git merge-tree --write-tree` in
   * the host's store, as of the last fetch; empty when it merges cleanly.
   * With `oldParentHead` only the branch's own changes since that commit
   * count, as `restack` would replay them.
   */
  predictConflicts(request: ConflictQuery, options?: MoveOptions): Promise<readonly string[]>;

  /**
   * The tree that would land if `head` were squash-merged into `base` now:
   * `base` is fetched, `head` merged into its tip in the store (`git
   * merge-tree --write-tree`), and a commit of that tree written with the tip
   * and the head as parents. No ref names it: workers' checkouts borrow the
   * store's objects, so they can check it out. Also what changed underneath:
   * the commits on `base` since `since` (their titles and `--stat`). A head
   * that does not merge cleanly is `ok: false` with the paths.
   */
  prepareLanding(request: LandingRequest, options?: MoveOptions): Promise<LandingPreparation>;

  /** The tree of a commit in the store (null when the store does not have it): a merge's result is compared with the verified tree. */
  treeOf(commit: string, options?: MoveOptions): Promise<string | null>;

  /**
   * The commits reachable from `head` and not from `base` (each a branch of
   * the remote as last fetched, fetching one never fetched, or a sha in the
   * host's store), newest first, at most `limit`: what a branch holds over
   * another, so a prompt can say what is in the agent's checkout.
   */
  commitsBetween(query: CommitRange, options?: MoveOptions): Promise<readonly CommitSummary[]>;

  /**
   * The worker's `branch` as its checkout has it now, brought into the host's
   * store the way `push` reads it (a copy of the checkout's own objects; git
   * never runs in the checkout), without pushing anything: what an agent has
   * committed so far, for `predictConflicts` (pass the answered sha).
   * Null when the checkout has no such branch, or what it has cannot be read
   * (a checkout is the worker's to break).
   */
  readWork(instance: string, branch: string, options?: MoveOptions): Promise<string | null>;

  /**
   * The conflicting hunks of a merge of `branch` into `onto` (as
   * `predictConflicts` without `oldParentHead`): for each conflicted path, a
   * `--- <path>` line and the regions between git's conflict markers in the
   * merged result, cut to `maxChars` in all. Empty when it merges cleanly.
   * With `paths`, only those of the conflicted paths are shown.
   */
  conflictHunks(request: HunksQuery, maxChars: number, options?: MoveOptions): Promise<string>;

  /**
   * The paths `branch` changes since its merge base with `onto` (`git diff
   * --name-only onto...branch` in the host's store), sorted: two branches
   * whose changed paths do not meet cannot conflict textually, so a
   * prediction round asks `predictConflicts` only about pairs that share one.
   */
  changedPaths(request: ConflictQuery, options?: MoveOptions): Promise<readonly string[]>;
}

export interface CommitRange {
  readonly base: string;
  readonly head: string;
  readonly limit: number;
}

export interface CommitSummary {
  readonly sha: string;
  /** The first line of its message. */
  readonly title: string;
  /** Its first parent; null for a root commit. */
  readonly parent: string | null;
}

export interface LandingRequest {
  /** The branch it merges into (the feature branch). */
  readonly base: string;
  /** The pull request's branch, fetched with `base`. */
  readonly headBranch: string;
  /** The pull request's head sha: what was verified alone and what the merge will name. */
  readonly head: string;
  /** Where the branch's own commits start: what changed underneath is counted from it (null: from the merge base). */
  readonly since: string | null;
  /**
   * The merge train's cars ahead of it (each a head sha in the host's store): merged onto the tip first, in order,
   * each as a commit titled with its `label`, so the tree is the one this head's merge makes once they have merged.
   */
  readonly ahead?: readonly LandingCar[];
}

export interface LandingCar {
  readonly head: string;
  /** "#11 Rename the session store": the title of the commit that stands for its merge. */
  readonly label: string;
}

export type LandingPreparation =
  | {
      readonly ok: true;
      /** `base`'s tip the head was merged into. */
      readonly baseSha: string;
      readonly tree: string;
      /** A commit of `tree`: what the worker checks out. */
      readonly commit: string;
      /** `git log --stat` of `base` since `since`, bounded. */
      readonly underneath: string;
    }
  | { readonly ok: false; readonly baseSha: string; readonly conflicts: readonly string[] };

export interface MoveOptions {
  /** Stops git and rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
}

export interface PushRequest {
  /** The instance whose checkout holds the work (`issue-12`). */
  readonly instance: string;
  readonly branch: string;
  /** The remote branch's sha the caller last saw; null: the branch must not exist on the remote. */
  readonly expectedRemoteSha: string | null;
  /**
   * Where the work was taken already, for a worker on another host: a bare
   * repository of cspace's own (the workspace transport's quarantine, its
   * objects checked on the way in) holding `refs/heads/<branch>`. Absent:
   * the work is read from the instance's checkout on this machine.
   */
  readonly collected?: { readonly repository: string; readonly sha: string } | undefined;
}

export interface RestackRequest {
  readonly branch: string;
  /** The merged parent's head, recorded before its squash merge: commits up to it are not replayed. */
  readonly oldParentHead: string;
  /** What to replay onto: the squash commit's sha (fetched with its branch first), or a branch of the remote. */
  readonly onto: string;
}

export type RestackResult =
  | {
      readonly ok: true;
      /** The branch's head on the remote now. */
      readonly sha: string;
      /** False when the branch was already restacked (nothing was pushed). */
      readonly changed: boolean;
    }
  | {
      readonly ok: false;
      /** The paths the replay stopped on, sorted. The branch is as it was. */
      readonly conflicts: readonly string[];
    };

export interface ConflictQuery {
  readonly branch: string;
  /** A branch of the remote (as last fetched) or a commit sha. */
  readonly onto: string;
  /** For a branch stacked on a parent that was squash-merged: the parent's old head. */
  readonly oldParentHead?: string | undefined;
}

export interface HunksQuery extends ConflictQuery {
  /** Show only these of the conflicted paths (a stacked branch's own, not its parent's); all when absent. */
  readonly paths?: readonly string[] | undefined;
}
