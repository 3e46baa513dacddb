import { Octokit } from "@octokit/rest";

export const defaultGithubApiUrl = "https://api.github.com";

export interface GithubAuthInput {
  readonly token: string;
  /** "owner/name". */
  readonly repo: string;
  readonly apiUrl?: string | undefined;
  readonly timeoutMs: number;
}

export type GithubAuthResult =
  | {
      readonly ok: true;
      readonly login: string;
      readonly repo: {
        readonly fullName: string;
        readonly private: boolean;
        readonly canPush: boolean;
        /** null when GitHub leaves it out: it shows merge settings only to tokens that may administer the repository. */
        readonly allowSquashMerge: boolean | null;
      };
    }
  | { readonly ok: false; readonly login: string | null; readonly reason: string };

/**
 * Signs in with the token and looks the repository up: who the token is, and
 * whether it can see the repository. Never throws for a failed sign-in or an
 * unreachable API; those are results.
 */
export async function checkGithubAuth(input: GithubAuthInput): Promise<GithubAuthResult> {
  const apiUrl = input.apiUrl ?? defaultGithubApiUrl;
  const octokit = new Octokit({
    auth: input.token,
    baseUrl: apiUrl.replace(/\/+$/, ""),
    request: { signal: AbortSignal.timeout(input.timeoutMs) },
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  });

  let login: string;
  try {
    login = (await octokit.rest.users.getAuthenticated()).data.login;
  } catch (error) {
    const status = statusOf(error);
    if (status === 401) return { ok: false, login: null, reason: "the token was refused (401 Bad credentials): it is wrong, expired or revoked" };
    return { ok: false, login: null, reason: `cannot sign in at ${apiUrl}: ${describe(error, input.timeoutMs)}` };
  }

  const [owner = "", name = ""] = input.repo.split("/");
  try {
    const { data } = await octokit.rest.repos.get({ owner, repo: name });
    return {
      ok: true,
      login,
      repo: { fullName: data.full_name, private: data.private, canPush: data.permissions?.push === true, allowSquashMerge: data.allow_squash_merge ?? null },
    };
  } catch (error) {
    // GitHub answers 404, not 403, for a private repository the token cannot see.
    const reason =
      statusOf(error) === 404
        ? `repository ${input.repo} is not found, or ${login} has no access to it`
        : `cannot read repository ${input.repo}: ${describe(error, input.timeoutMs)}`;
    return { ok: false, login, reason };
  }
}

function statusOf(error: unknown): number | undefined {
  if (typeof error === "object" && error !== null && "status" in error && typeof error.status === "number") return error.status;
  return undefined;
}

function describe(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError" || /aborted/i.test(error.message))) {
    return `no answer within ${timeoutMs / 1000} s`;
  }
  const status = statusOf(error);
  const message = error instanceof Error ? error.message : String(error);
  return status === undefined || status === 500 ? message : `${status} ${message}`;
}
