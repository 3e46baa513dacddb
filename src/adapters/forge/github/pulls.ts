import { ExternalError } from "../../../core/errors.ts";
import { ForgeConflictError, ForgeNotFoundError, HeadMovedError } from "../../../core/forge/errors.ts";
import type { MergeResult, Mergeability, PullRequest, PullRequestDraft, SquashMergeOptions } from "../../../core/forge/port.ts";
import { checkBranchName, fail, sleep, type GithubContext } from "./context.ts";
import { httpFailure, isBaseModified, toForgeError } from "./errors.ts";

/** The fields of a pull request (list item or full object) cspace reads. */
interface PullData {
  readonly number: number;
  readonly title: string;
  readonly state: string;
  readonly html_url: string;
  readonly merged_at: string | null;
  readonly merge_commit_sha?: string | null | undefined;
  readonly head: { readonly ref: string; readonly sha: string };
  readonly base: { readonly ref: string };
  readonly mergeable?: boolean | null | undefined;
  readonly mergeable_state?: string | undefined;
}

function toPullRequest(data: PullData): PullRequest {
  const merged = data.merged_at !== null;
  return {
    number: data.number,
    title: data.title,
    head: data.head.ref,
    base: data.base.ref,
    headSha: data.head.sha,
    state: merged ? "merged" : data.state === "closed" ? "closed" : "open",
    mergeability: mergeabilityOf(data),
    // GitHub does not say which paths conflict.
    conflicts: [],
    mergeSha: merged ? (data.merge_commit_sha ?? null) : null,
    url: data.html_url,
  };
}

function mergeabilityOf(data: PullData): Mergeability {
  if (data.mergeable === true) return "mergeable";
  if (data.mergeable === false || data.mergeable_state === "dirty") return "conflicting";
  return "unknown";
}

export async function findPullRequest(context: GithubContext, headBranch: string): Promise<PullRequest | null> {
  checkBranchName(headBranch);
  // `owner:branch`, never a bare branch: GitHub ignores a bare name and lists every pull request.
  const { data } = await context.octokit.rest.pulls
    .list({ owner: context.owner, repo: context.repo, head: `${context.owner}:${headBranch}`, state: "all", sort: "created", direction: "desc", per_page: 10 })
    .catch((error: unknown) => fail(context, `find the pull request for ${headBranch}`, error));
  const newest = data.find((p) => p.head.ref === headBranch);
  return newest === undefined ? null : toPullRequest(newest);
}

export async function openPullRequest(context: GithubContext, draft: PullRequestDraft): Promise<PullRequest> {
  checkBranchName(draft.head);
  checkBranchName(draft.base);
  const existing = await findPullRequest(context, draft.head);
  if (existing?.state === "open") {
    return updatePull(context, existing.number, { title: draft.title, body: draft.body, base: draft.base });
  }
  try {
    const { data } = await context.octokit.rest.pulls.create({ owner: context.owner, repo: context.repo, head: draft.head, base: draft.base, title: draft.title, body: draft.body });
    return toPullRequest(data);
  } catch (error) {
    throw refusal(context, error, `open a pull request from ${draft.head} into ${draft.base}`);
  }
}

/** A 422 naming the head or base field means that branch does not exist; other 422s carry GitHub's reason. */
function refusal(context: GithubContext, error: unknown, what: string): Error {
  const failure = httpFailure(error);
  if (failure?.status !== 422) return toForgeError(error, what, context.apiUrl);
  const missing = failure.fieldErrors.find((e) => (e.field === "head" || e.field === "base") && e.code === "invalid");
  if (missing?.field !== undefined) return new ForgeNotFoundError(`cannot ${what}: the ${missing.field} branch does not exist in ${context.owner}/${context.repo}`, { cause: error });
  const reasons = failure.fieldErrors.map((e) => e.message).filter((m) => m !== undefined);
  return new ForgeConflictError(`GitHub refused to ${what}: ${reasons.length > 0 ? reasons.join("; ") : failure.message}`, { cause: error });
}

async function updatePull(context: GithubContext, number: number, fields: { title?: string; body?: string; base?: string }): Promise<PullRequest> {
  try {
    const { data } = await context.octokit.rest.pulls.update({ owner: context.owner, repo: context.repo, pull_number: number, ...fields });
    return toPullRequest(data);
  } catch (error) {
    throw refusal(context, error, `update pull request #${number}`);
  }
}

export async function retargetPullRequest(context: GithubContext, number: number, base: string): Promise<PullRequest> {
  checkBranchName(base);
  return updatePull(context, number, { base });
}

/** Reads a pull request, polling with backoff while GitHub still computes `mergeable` (null). */
export async function getPullRequest(context: GithubContext, number: number): Promise<PullRequest> {
  let delay = context.poll.initialDelayMs;
  for (let attempt = 1; ; attempt++) {
    const { data } = await context.octokit.rest.pulls
      .get({ owner: context.owner, repo: context.repo, pull_number: number })
      .catch((error: unknown) => fail(context, `read pull request #${number}`, error));
    const pull = toPullRequest(data);
    if (pull.state !== "open" || data.mergeable !== null || attempt >= context.poll.attempts) return pull;
    await sleep(delay);
    delay *= 2;
  }
}

/**
 * Squash-merges naming the head sha, so a later push cannot slip in (409).
 * A 405 is re-checked: already merged with this head returns the first squash
 * commit (a retry after a lost answer never merges twice); "Base branch was
 * modified" is retried once; anything else not mergeable is a conflict.
 */
export async function squashMerge(context: GithubContext, number: number, options: SquashMergeOptions): Promise<MergeResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { data } = await context.octokit.rest.pulls.merge({
        owner: context.owner,
        repo: context.repo,
        pull_number: number,
        merge_method: "squash",
        sha: options.expectedHeadSha,
        commit_title: options.title,
        commit_message: options.message,
      });
      return { sha: data.sha };
    } catch (error) {
      const failure = httpFailure(error);
      if (failure?.status === 409) throw await headMoved(context, number, options.expectedHeadSha, error);
      if (failure?.status !== 405) throw toForgeError(error, `merge pull request #${number}`, context.apiUrl);
      const pull = await getPullRequest(context, number);
      if (pull.headSha !== options.expectedHeadSha) throw movedError(number, options.expectedHeadSha, pull.headSha, error);
      if (pull.state === "merged") {
        if (pull.mergeSha === null) throw new ExternalError(`pull request #${number} is merged but GitHub names no merge commit`, { cause: error });
        return { sha: pull.mergeSha };
      }
      if (pull.state === "closed") throw new ForgeConflictError(`pull request #${number} is closed: not merged`, { cause: error });
      if (isBaseModified(failure) && attempt === 1) continue;
      throw new ForgeConflictError(`pull request #${number} is not mergeable (${failure.message})`, { cause: error });
    }
  }
}

async function headMoved(context: GithubContext, number: number, expected: string, cause: unknown): Promise<HeadMovedError> {
  const actual = await getPullRequest(context, number).then(
    (p) => p.headSha,
    () => null,
  );
  return movedError(number, expected, actual, cause);
}

function movedError(number: number, expected: string, actual: string | null, cause: unknown): HeadMovedError {
  return new HeadMovedError(`pull request #${number}'s head is ${actual ?? "unknown"}, not the checked ${expected}: not merged`, { expectedSha: expected, actualSha: actual, cause });
}
