import { openConfiguredForge } from "../adapters/forge/open-forge.ts";
import type { TokenLookup } from "../adapters/forge/github/token.ts";
import type { Config } from "../core/config/schema.ts";
import type { Forge } from "../core/forge/port.ts";

export interface OpenForgeOptions {
  readonly config: Config;
  readonly projectDir: string;
  readonly env: NodeJS.ProcessEnv;
  /** Token discovery, replaceable in tests; by default GH_TOKEN, GITHUB_TOKEN, then `gh auth token`. */
  readonly findToken?: (env: NodeJS.ProcessEnv, apiUrl?: string) => Promise<TokenLookup>;
}

/**
 * The forge the loaded configuration names, for the composition root
 * (./project.ts). Services never ask which product it is: what differs is
 * behind the Forge port.
 */
export async function openForge(options: OpenForgeOptions): Promise<Forge> {
  return openConfiguredForge({ settings: options.config.forge, projectDir: options.projectDir, env: options.env, findToken: options.findToken });
}
