import type { Forge } from "../../../core/forge/port.ts";
import { defaultGithubApiUrl, type GithubAuthInput, type GithubAuthResult } from "./auth-check.ts";
import { deleteBranch, branchHead, createBranch, moveBranch } from "./branches.ts";
import { checksFor } from "./checks.ts";
import { createGithubClient, type GithubThrottle } from "./client.ts";
import { call, parseRepo, type GithubContext } from "./context.ts";
import { checkGithubForge } from "./health.ts";
import { closeIssue, commentOnIssue, getIssue, listComments, listIssues, subIssues, updateComment } from "./issues.ts";
import { findPullRequest, getPullRequest, openPullRequest, retargetPullRequest, squashMerge } from "./pulls.ts";
import { missingToken, type TokenLookup, type TokenProvider } from "./token.ts";

export interface GithubForgeOptions {
  /** `owner/name`. */
  readonly repo: string;
  /**
   * The token, or where to find it (findGithubToken) when first needed: a
   * missing token then fails the first call with a UserError, and `check()`
   * reports it. Never logged.
   */
  readonly token: string | TokenProvider;
  /** GitHub Enterprise (`https://host/api/v3`) or the test simulator; default api.github.com. */
  readonly apiUrl?: string | undefined;
  readonly throttle?: GithubThrottle | undefined;
  /** Polling of `mergeable` while GitHub computes it: attempts, first delay doubling each time (default 6 from 500 ms, about 16 s in all). */
  readonly mergeabilityPoll?: { readonly attempts?: number | undefined; readonly initialDelayMs?: number | undefined } | undefined;
  /** doctor's sign-in probe, replaceable in tests. */
  readonly checkAuth?: ((input: GithubAuthInput) => Promise<GithubAuthResult>) | undefined;
}

/** The Forge port on GitHub's REST API, through exactly the operations in notes/github-api.md. */
export function createGithubForge(options: GithubForgeOptions): Forge {
  const { owner, name } = parseRepo(options.repo);
  const repo = `${owner}/${name}`;
  const apiUrl = options.apiUrl ?? defaultGithubApiUrl;
  const { token } = options;
  const credentials = once(async (): Promise<TokenLookup> => (typeof token === "string" ? { found: true, token, source: "given" } : token()));
  const context = once(async (): Promise<GithubContext> => {
    const lookup = await credentials();
    if (!lookup.found) throw missingToken(repo, lookup.gh);
    return {
      octokit: createGithubClient({ token: lookup.token, apiUrl, throttle: options.throttle }),
      owner,
      repo: name,
      apiUrl,
      poll: { attempts: options.mergeabilityPoll?.attempts ?? 6, initialDelayMs: options.mergeabilityPoll?.initialDelayMs ?? 500 },
    };
  });
  const withContext =
    <A extends unknown[], R>(run: (context: GithubContext, ...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> =>
      run(await context(), ...args);
  // Asked once per forge: a repository's default branch does not change during a run.
  const defaultBranch = once(
    withContext((c) => call(c, `read repository ${repo}`, () => c.octokit.rest.repos.get({ owner, repo: name })).then((r) => r.data.default_branch)),
  );

  return {
    repo,
    // Listing every issue means paging through all of them: follow dependencies instead.
    listsEveryIssueAtOnce: false,
    check: () => checkGithubForge({ repo, apiUrl: options.apiUrl, credentials, checkAuth: options.checkAuth }),
    listIssues: withContext(listIssues),
    getIssue: withContext(getIssue),
    closeIssue: withContext(closeIssue),
    commentOnIssue: withContext(commentOnIssue),
    branchHead: withContext(branchHead),
    createBranch: withContext(createBranch),
    moveBranch: withContext(moveBranch),
    deleteBranch: withContext(deleteBranch),
    defaultBranch,
    findPullRequest: withContext(findPullRequest),
    openPullRequest: withContext(openPullRequest),
    getPullRequest: withContext(getPullRequest),
    retargetPullRequest: withContext(retargetPullRequest),
    squashMerge: withContext(squashMerge),
    checksFor: withContext(checksFor),
    subIssues: withContext(subIssues),
    listComments: withContext(listComments),
    updateComment: withContext(updateComment),
  };
}

/** `build` run on first call and its answer kept; a failure is forgotten, so a later call tries again. */
function once<T>(build: () => Promise<T>): () => Promise<T> {
  let built: Promise<T> | undefined;
  return () => {
    built ??= build().catch((error: unknown) => {
      built = undefined;
      throw error;
    });
    return built;
  };
}
