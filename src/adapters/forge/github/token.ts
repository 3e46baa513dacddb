import { execa } from "execa";

export type TokenSource = "GH_TOKEN" | "GITHUB_TOKEN" | "gh auth token";

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
  const result = await execa("gh", args, { reject: false, timeout: GH_TIMEOUT_MS, env, extendEnv: false, stdin: "ignore" });
  if (isNotFound(result)) return { found: false, gh: "missing" };
  const token = result.exitCode === 0 ? result.stdout.trim() : "";
  return token === "" ? { found: false, gh: "logged-out" } : { found: true, token, source: "gh auth token" };
}

/** gh keys its tokens by host; github.com is its default. */
function hostArgs(apiUrl: string | undefined): string[] {
  if (apiUrl === undefined) return [];
  const host = URL.parse(apiUrl)?.hostname;
  if (host === undefined || host === "" || host === "api.github.com" || host === "github.com") return [];
  return ["--hostname", host];
}

function isNotFound(result: { failed: boolean; code?: string | undefined }): boolean {
  return result.failed && result.code === "ENOENT";
}
