import path from "node:path";
import { CONFIG_FILE, findProjectDir, LOCAL_CONFIG_FILE, readConfigFile, requireDirectory } from "../adapters/config/config-files.ts";
import type { ConfigLayer, ResolveInput } from "../core/config/merge.ts";
import { resolvePlainConfig } from "../core/config/plain.ts";
import { projectNameFrom } from "../core/config/rules.ts";
import type { Config, ConfigOverrides } from "../core/config/schema.ts";

export interface LoadConfigOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Values from flags: the highest-precedence layer. */
  readonly overrides?: ConfigOverrides;
  /** Key path ("coordinator.featureBranch") → the flag that sets it ("flag --feature-branch"), for messages. */
  readonly overrideSources?: Record<string, string>;
}

export interface LoadedConfig {
  readonly config: Config;
  readonly projectDir: string;
  /** The config files found, absolute, lowest precedence first. */
  readonly files: readonly string[];
}

/**
 * Finds the project, reads `.cspace.json` and `.cspace.local.json` (both
 * optional) and resolves them with the environment and flags. Throws a
 * UserError for invalid configuration, an ExternalError for an unreadable file.
 */
export async function loadConfig(options: LoadConfigOptions): Promise<LoadedConfig> {
  const cwd = path.resolve(options.cwd);
  await requireDirectory(cwd, "Run cspace inside your project, or pass --cwd <dir> naming an existing directory.");
  const projectDir = await findProjectDir(cwd);
  const layers: ConfigLayer[] = [];
  const files: string[] = [];
  for (const name of [CONFIG_FILE, LOCAL_CONFIG_FILE]) {
    const file = path.join(projectDir, name);
    // Named as the user would reach them from where they ran cspace.
    const label = path.relative(cwd, file);
    const read = await readConfigFile(file, label);
    if (!read.found) continue;
    files.push(file);
    layers.push({ source: label, value: read.value });
  }
  const input: ResolveInput = {
    files: layers,
    env: options.env,
    overrides: options.overrides,
    overrideSources: options.overrideSources,
    defaultProjectName: projectNameFrom(path.basename(projectDir)),
  };
  // zod (and the schema built with it) is loaded only when the configuration
  // is not plainly valid, to decide and word the problems: loading it costs
  // more than a short command's own work (docs/architecture.md, Start-up).
  const config = resolvePlainConfig(input) ?? (await import("../core/config/layers.ts")).resolveConfig(input);
  return { config, projectDir, files };
}
