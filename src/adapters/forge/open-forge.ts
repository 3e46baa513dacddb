import type { Config } from "../../core/config/schema.ts";
import type { Forge } from "../../core/forge/port.ts";
import type { TokenLookup } from "./github/token.ts";

export interface OpenConfiguredForgeOptions {
  /** `forge` from the loaded configuration. */
  readonly settings: Config["forge"];
  readonly projectDir: string;
  readonly env: NodeJS.ProcessEnv;
  /** Token discovery, replaceable in tests; by default GH_TOKEN, GITHUB_TOKEN, then `gh auth token`. */
  readonly findToken?: ((env: NodeJS.ProcessEnv, apiUrl?: string) => Promise<TokenLookup>) | undefined;
}

/**
 * The one place that knows which forge products exist. Each adapter is
 * imported only when configured, so a local-forge command never loads octokit.
 * Nothing is checked or asked here: the local remote on first use, the GitHub
 * token on the first call that needs it (and by `check()`).
 */
export async function openConfiguredForge(options: OpenConfiguredForgeOptions): Promise<Forge> {
  const { settings } = options;
  switch (settings.type) {
    case "local": {
      const { createLocalForge } = await import("./local/local-forge.ts");
      return createLocalForge({ projectDir: options.projectDir, issuesDir: settings.issuesDir, remote: settings.remote });
    }
    case "github": {
      const [{ createGithubForge }, { findGithubToken }] = await Promise.all([import("./github/forge.ts"), import("./github/token.ts")]);
      const findToken = options.findToken ?? findGithubToken;
      return createGithubForge({ repo: settings.repo, apiUrl: settings.apiUrl, token: () => findToken(options.env, settings.apiUrl) });
    }
  }
}
