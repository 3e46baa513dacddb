import { createGithubForge } from "../adapters/forge/github/forge.ts";
import { findGithubToken, type TokenLookup } from "../adapters/forge/github/token.ts";
import { createLocalForge } from "../adapters/forge/local/local-forge.ts";
import type { Config } from "../core/config/schema.ts";
import { UserError } from "../core/errors.ts";
import type { Forge } from "../core/forge/port.ts";

export interface OpenForgeOptions {
  readonly config: Config;
  readonly projectDir: string;
  readonly env: NodeJS.ProcessEnv;
  /** Token discovery, replaceable in tests; by default GH_TOKEN, GITHUB_TOKEN, then `gh auth token`. */
  readonly findToken?: (env: NodeJS.ProcessEnv, apiUrl?: string) => Promise<TokenLookup>;
}

/**
 * The forge the loaded configuration names: the local one (issues in
 * `forge.issuesDir`, the bare repository `forge.remote`, checked on first use)
 * or GitHub (`forge.repo`, `forge.apiUrl`, a token from the environment).
 */
export async function openForge(options: OpenForgeOptions): Promise<Forge> {
  const forge = options.config.forge;
  switch (forge.type) {
    case "local":
      return createLocalForge({ projectDir: options.projectDir, issuesDir: forge.issuesDir, remote: forge.remote });
    case "github": {
      const lookup = await (options.findToken ?? findGithubToken)(options.env, forge.apiUrl);
      if (!lookup.found) throw missingToken(forge.repo, lookup.gh);
      return createGithubForge({ repo: forge.repo, token: lookup.token, apiUrl: forge.apiUrl });
    }
  }
}

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
