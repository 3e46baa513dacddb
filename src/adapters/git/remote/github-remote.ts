import { UserError } from "../../../core/errors.ts";
import { defaultGithubApiUrl } from "../../forge/github/auth-check.ts";
import { parseRepo } from "../../forge/github/context.ts";
import { missingToken, type TokenProvider } from "../../forge/github/token.ts";
import type { GitRemote, RemoteAccess } from "./remote.ts";

export interface GithubRemoteOptions {
  /** `owner/name`. */
  readonly repo: string;
  /** GitHub Enterprise (`https://host/api/v3`) or the test simulator; default api.github.com. */
  readonly apiUrl?: string | undefined;
  /** The token, or where to find it when first needed (the forge's provider). */
  readonly token: string | TokenProvider;
  /** The repository's `clone_url` when known (proxies, odd hosts); else derived from the API URL. */
  readonly url?: string | undefined;
}

/**
 * A GitHub repository over HTTPS. The token reaches git through the child's
 * environment only, as config git reads from GIT_CONFIG_COUNT/KEY_n/VALUE_n:
 * an `Authorization: Basic` header (user `x-access-token`, as GitHub Actions
 * sends it, accepted by github.com and GitHub Enterprise). Not `-c
 * http.extraHeader=…`: that is argv, which every user can read in `ps`
 * (/proc/<pid>/cmdline), whereas /proc/<pid>/environ is readable only by the
 * process's own user, who already holds the token. Not a credential helper
 * or GIT_ASKPASS: those answer only after a 401 challenge (a round trip more
 * per request), need a helper script on disk, and the user's own helpers
 * would be asked first. Nothing is written to a config file or a URL.
 *
 * The user's credential helpers are switched off for these calls: a refused
 * token must fail plainly, not fall back to (or, on a 401, erase) whatever
 * the user stored. GIT_ASKPASS="" and GIT_TERMINAL_PROMPT=0 (./run-git.ts)
 * mean git never asks anyone.
 */
export function githubRemote(options: GithubRemoteOptions): GitRemote {
  const { owner, name } = parseRepo(options.repo);
  const repo = `${owner}/${name}`;
  const url = options.url ?? githubGitUrl(repo, options.apiUrl);
  const { token } = options;
  let found: Promise<string> | undefined;
  const lookup = async (): Promise<string> => {
    if (typeof token === "string") return token;
    const result = await token();
    if (!result.found) throw missingToken(repo, result.gh);
    return result.token;
  };
  return {
    url,
    description: `GitHub (${repo} at ${url})`,
    async access(): Promise<RemoteAccess> {
      // Looked up once; a failed lookup is forgotten so a later call may succeed.
      found ??= lookup().catch((error: unknown) => {
        found = undefined;
        throw error;
      });
      return tokenAccess(await found);
    },
  };
}

/** The environment that hands `token` to one git process, and the forms of it that must never be shown. */
export function tokenAccess(token: string): RemoteAccess {
  const basic = Buffer.from(`x-access-token:${token}`).toString("base64");
  const config: readonly (readonly [string, string])[] = [
    // An empty value resets a multi-valued key: the user's helpers and headers are not consulted.
    ["credential.helper", ""],
    ["http.extraHeader", ""],
    ["http.extraHeader", `Authorization: Basic ${basic}`],
  ];
  // GIT_TRACE_REDACT: a user tracing git (GIT_TRACE_CURL=<file>) still never gets the header in the trace.
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(config.length), GIT_ASKPASS: "", GIT_TRACE_REDACT: "1" };
  config.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${String(index)}`] = key;
    env[`GIT_CONFIG_VALUE_${String(index)}`] = value;
  });
  return { env, secrets: [token, basic] };
}

/**
 * The repository's HTTPS URL on the web host of the API: github.com for
 * api.github.com, `<sub>.ghe.com` for `api.<sub>.ghe.com` (data residency),
 * the same host without `/api/v3` for GitHub Enterprise Server, and the API's
 * own root otherwise (the test simulator serves both there).
 */
export function githubGitUrl(repo: string, apiUrl: string | undefined): string {
  const api = URL.parse(apiUrl ?? defaultGithubApiUrl);
  if (api === null) throw new UserError(`the GitHub API URL "${apiUrl ?? ""}" is not a URL`);
  const host = api.host === "api.github.com" ? "github.com" : /^api\.[^.]+\.ghe\.com$/i.test(api.hostname) ? api.host.slice("api.".length) : api.host;
  const base = api.pathname.replace(/\/+$/, "").replace(/\/api\/v3$/i, "");
  return `${api.protocol}//${host}${base}/${repo}.git`;
}
