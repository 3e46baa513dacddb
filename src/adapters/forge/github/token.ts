import { UserError } from "../../../core/errors.ts";
import { execFile } from "node:child_process";

/** "given": handed to the forge as is (tests, the simulator). */
export type TokenSource = "GH_TOKEN" | "GITHUB_TOKEN" | "gh auth token" | "given";

export interface GithubToken {
  readonly token: string;
  /** Where the token came from: safe to show, unlike the token. */
  readonly source: TokenSource;
}

export type TokenLookup =
  | ({ readonly found: true } & GithubToken)
  | { readonly found: false; readonly gh: "missing" | "logged-out" };

const GH_TIMEOUT_MS = 10_000;

/**
 * The GitHub token cspace uses: GH_TOKEN, then GITHUB_TOKEN, then what the
 * GitHub CLI has stored (`gh auth token`, for the API URL's host), when gh is installed.
 */
export async function findGithubToken(env: NodeJS.ProcessEnv, apiUrl?: string): Promise<TokenLookup> {
  for (const source of ["GH_TOKEN", "GITHUB_TOKEN"] as const) {
    const value = env[source]?.trim();
    if (value !== undefined && value !== "") return { found: true, token: value, source };
  }
  const args = ["auth", "token", ...hostArgs(apiUrl)];
  const result = await ghAuthToken(args, env);
  if (result === "missing") return { found: false, gh: "missing" };
  return result === "" ? { found: false, gh: "logged-out" } : { found: true, token: result, source: "gh auth token" };
}

/** gh keys its tokens by host; github.com is its default. */
function hostArgs(apiUrl: string | undefined): string[] {
  if (apiUrl === undefined) return [];
  const host = URL.parse(apiUrl)?.hostname;
  if (host === undefined || host === "" || host === "api.github.com" || host === "github.com") return [];
  return ["--hostname", host];
}

/**
 * The token gh prints, "" when it prints none or fails (logged out, timed
 * out), "missing" when gh is not installed. node:child_process, not execa:
 * this runs at start-up of every GitHub command.
 */
function ghAuthToken(args: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile("gh", args, { env, timeout: GH_TIMEOUT_MS, encoding: "utf8" }, (error, stdout) => {
      if (error?.code === "ENOENT") resolve("missing");
      else resolve(error === null ? stdout.trim() : "");
    });
    child.stdin?.end();
  });
}

/** Where a forge gets its token when it first needs one: a token given as is, or a lookup (findGithubToken). */
export type TokenProvider = () => Promise<TokenLookup>;

/**
 * A UserError, not an ExternalError: nothing outside is failing; the user has
 * not given cspace a credential yet, and only they can (exit 2, like any
 * missing setting). The message names every place that was looked at.
 */
export function missingToken(repo: string, gh: "missing" | "logged-out"): UserError {
  const ghState = gh === "missing" ? "gh (the GitHub CLI) is not installed" : "gh is not logged in";
  return new UserError(`no GitHub token to reach ${repo}: GH_TOKEN and GITHUB_TOKEN are unset and ${ghState}`, {
    hint:
      "Export GH_TOKEN=<token> (a fine-grained token for the repository, or a classic one with the repo scope), " +
      "or run `gh auth login`. The README's Forges section lists the permissions cspace needs.",
  });
}
