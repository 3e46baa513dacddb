import type { Forge } from "../../../core/forge/port.ts";
import { defaultGithubApiUrl } from "./auth-check.ts";
import { deleteBranch, branchHead, createBranch, moveBranch } from "./branches.ts";
import { checksFor } from "./checks.ts";
import { createGithubClient, type GithubThrottle } from "./client.ts";
import { call, parseRepo, type GithubContext } from "./context.ts";
import { closeIssue, commentOnIssue, getIssue, listIssues } from "./issues.ts";
import { findPullRequest, getPullRequest, openPullRequest, retargetPullRequest, squashMerge } from "./pulls.ts";

export interface GithubForgeOptions {
  /** `owner/name`. */
  readonly repo: string;
  /** From findGithubToken (./token.ts); never logged. */
  readonly token: string;
  /** GitHub Enterprise (`https://host/api/v3`) or the test simulator; default api.github.com. */
  readonly apiUrl?: string | undefined;
  readonly throttle?: GithubThrottle | undefined;
  /** Polling of `mergeable` while GitHub computes it: attempts, first delay doubling each time (default 6 from 500 ms, about 16 s in all). */
  readonly mergeabilityPoll?: { readonly attempts?: number | undefined; readonly initialDelayMs?: number | undefined } | undefined;
}

/** The Forge port on GitHub's REST API, through exactly the operations in notes/github-api.md. */
export function createGithubForge(options: GithubForgeOptions): Forge {
  const { owner, name } = parseRepo(options.repo);
  const apiUrl = options.apiUrl ?? defaultGithubApiUrl;
  const context: GithubContext = {
    octokit: createGithubClient({ token: options.token, apiUrl, throttle: options.throttle }),
    owner,
    repo: name,
    apiUrl,
    poll: { attempts: options.mergeabilityPoll?.attempts ?? 6, initialDelayMs: options.mergeabilityPoll?.initialDelayMs ?? 500 },
  };
  let defaultBranch: Promise<string> | undefined;

  return {
    repo: `${owner}/${name}`,
    listIssues: (query) => listIssues(context, query),
    getIssue: (number) => getIssue(context, number),
    closeIssue: (number) => closeIssue(context, number),
    commentOnIssue: (number, body) => commentOnIssue(context, number, body),
    branchHead: (branch) => branchHead(context, branch),
    createBranch: (branch, sha) => createBranch(context, branch, sha),
    moveBranch: (branch, sha, moveOptions) => moveBranch(context, branch, sha, moveOptions),
    deleteBranch: (branch, deleteOptions) => deleteBranch(context, branch, deleteOptions),
    defaultBranch: () => {
      // Asked once per forge: a repository's default branch does not change during a run.
      defaultBranch ??= call(context, `read repository ${owner}/${name}`, () => context.octokit.rest.repos.get({ owner, repo: name })).then((r) => r.data.default_branch);
      defaultBranch.catch(() => (defaultBranch = undefined));
      return defaultBranch;
    },
    findPullRequest: (head) => findPullRequest(context, head),
    openPullRequest: (draft) => openPullRequest(context, draft),
    getPullRequest: (number) => getPullRequest(context, number),
    retargetPullRequest: (number, base) => retargetPullRequest(context, number, base),
    squashMerge: (number, mergeOptions) => squashMerge(context, number, mergeOptions),
    checksFor: (sha) => checksFor(context, sha),
  };
}
