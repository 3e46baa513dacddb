import { skipped, squashMergeCheck } from "../../../core/doctor/checks.ts";
import type { ForgeCheck } from "../../../core/forge/port.ts";
import { checkGithubAuth, type GithubAuthInput, type GithubAuthResult } from "./auth-check.ts";
import type { TokenLookup } from "./token.ts";

/** A silent API must not hold doctor up. */
export const GITHUB_CHECK_TIMEOUT_MS = 10_000;

export interface GithubHealthInput {
  readonly repo: string;
  readonly apiUrl?: string | undefined;
  readonly credentials: () => Promise<TokenLookup>;
  /** Replaceable in tests. */
  readonly checkAuth?: ((input: GithubAuthInput) => Promise<GithubAuthResult>) | undefined;
}

/**
 * doctor's view of a GitHub forge: a token, signing in with it, push access to
 * the repository (`forge`), and whether the repository allows squash merges
 * (`squash-merge`, skipped when the repository could not be read).
 */
export async function checkGithubForge(input: GithubHealthInput): Promise<readonly ForgeCheck[]> {
  const base = { id: "forge", title: `Forge (GitHub ${input.repo})`, required: true } as const;
  const notRead: ForgeCheck = { ...skipped("squash-merge", "Squash merges", true, `${input.repo} could not be read`), id: "squash-merge" };
  const lookup = await input.credentials();
  if (!lookup.found) {
    const gh = lookup.gh === "missing" ? "gh is not installed" : "gh is not logged in";
    return [
      {
        ...base,
        status: "fail",
        detail: `no GitHub token: GH_TOKEN and GITHUB_TOKEN are unset and ${gh}`,
        hint: "Export GH_TOKEN with a token that can read and push to the repository, or run `gh auth login`.",
      },
      notRead,
    ];
  }
  const auth = await (input.checkAuth ?? checkGithubAuth)({ token: lookup.token, repo: input.repo, apiUrl: input.apiUrl, timeoutMs: GITHUB_CHECK_TIMEOUT_MS });
  const who = auth.login === null ? `token from ${lookup.source}` : `signed in as ${auth.login} (token from ${lookup.source})`;
  if (!auth.ok) {
    const hint = `Check the network, forge.apiUrl and forge.repo, and that the token from ${lookup.source} is valid and can read ${input.repo}.`;
    return [{ ...base, status: "fail", detail: `${who}: ${auth.reason}`, hint }, notRead];
  }
  const squash: ForgeCheck = { ...squashMergeCheck(input.repo, auth.repo.allowSquashMerge), id: "squash-merge" };
  const repo = `${auth.repo.fullName} reachable (${auth.repo.private ? "private" : "public"})`;
  if (!auth.repo.canPush) {
    const hint = "cspace pushes branches and merges pull requests: use a token with write access.";
    return [{ ...base, status: "warn", detail: `${who}; ${repo} but without push access`, hint }, squash];
  }
  return [{ ...base, status: "pass", detail: `${who}; ${repo} with push access` }, squash];
}
