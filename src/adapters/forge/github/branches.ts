import { ForgeConflictError, ForgeNotFoundError, HeadMovedError } from "../../../core/forge/errors.ts";
import { httpFailure } from "./errors.ts";
import { checkBranchName, fail, type GithubContext } from "./context.ts";

/*
 * GitHub has no compare-and-swap on refs: the expected-sha guards read the
 * ref, compare, then write. A push landing in the few milliseconds between
 * the read and the write is not caught here; the merge itself is guarded by
 * GitHub (`pulls.merge` with `sha`), which is where it matters most.
 */

export async function branchHead(context: GithubContext, branch: string): Promise<string | null> {
  checkBranchName(branch);
  try {
    // octokit URL-encodes the path parameter: `heads/feature/x` travels as `heads%2Ffeature%2Fx`.
    const { data } = await context.octokit.rest.git.getRef({ owner: context.owner, repo: context.repo, ref: `heads/${branch}` });
    return data.object.sha;
  } catch (error) {
    if (httpFailure(error)?.status === 404) return null;
    fail(context, `read branch ${branch}`, error);
  }
}

export async function createBranch(context: GithubContext, branch: string, sha: string): Promise<void> {
  checkBranchName(branch);
  try {
    await context.octokit.rest.git.createRef({ owner: context.owner, repo: context.repo, ref: `refs/heads/${branch}`, sha });
  } catch (error) {
    if (httpFailure(error)?.status !== 422) fail(context, `create branch ${branch}`, error);
    // A 422 is either "already exists" or "no such object": the ref itself says which.
    const current = await branchHead(context, branch);
    if (current === sha) return;
    if (current === null) throw new ForgeNotFoundError(`cannot create branch ${branch}: commit ${sha} is not in ${context.owner}/${context.repo}`, { cause: error });
    throw new ForgeConflictError(`branch ${branch} already exists at ${current}, not at ${sha}`, { cause: error });
  }
}

export async function moveBranch(context: GithubContext, branch: string, sha: string, options: { readonly expectedSha: string; readonly force: boolean }): Promise<void> {
  const current = await branchHead(context, branch);
  if (current === null) throw new ForgeNotFoundError(`branch ${branch} does not exist in ${context.owner}/${context.repo}`);
  if (current !== options.expectedSha) {
    throw new HeadMovedError(`branch ${branch} is at ${current}, not at the expected ${options.expectedSha}`, { expectedSha: options.expectedSha, actualSha: current });
  }
  if (current === sha) return;
  try {
    await context.octokit.rest.git.updateRef({ owner: context.owner, repo: context.repo, ref: `heads/${branch}`, sha, force: options.force });
  } catch (error) {
    if (httpFailure(error)?.status !== 422) fail(context, `move branch ${branch}`, error);
    const now = await branchHead(context, branch);
    if (now !== options.expectedSha) throw new HeadMovedError(`branch ${branch} moved to ${now ?? "nothing"} meanwhile`, { expectedSha: options.expectedSha, actualSha: now });
    throw new ForgeConflictError(`moving ${branch} from ${current} to ${sha} is not a fast-forward (pass force to allow it)`, { cause: error });
  }
}

export async function deleteBranch(context: GithubContext, branch: string, options: { readonly expectedSha: string | null }): Promise<void> {
  const current = await branchHead(context, branch);
  if (current === null) return;
  if (options.expectedSha !== null && current !== options.expectedSha) {
    throw new HeadMovedError(`branch ${branch} is at ${current}, not at the expected ${options.expectedSha}: not deleted`, { expectedSha: options.expectedSha, actualSha: current });
  }
  try {
    await context.octokit.rest.git.deleteRef({ owner: context.owner, repo: context.repo, ref: `heads/${branch}` });
  } catch (error) {
    // 422 "Reference does not exist": someone deleted it first, which is what was wanted.
    if (httpFailure(error)?.status === 422 && (await branchHead(context, branch)) === null) return;
    fail(context, `delete branch ${branch}`, error);
  }
}
