import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const binPath = path.join(repoRoot, "bin", "cspace");

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the real `bin/cspace` (which loads the built dist/) as a user would,
 * with the Node running the tests.
 */
export function runCli(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; node?: string } = {}): CliResult {
  const result = spawnSync(options.node ?? process.execPath, [binPath, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...cleanEnv(), ...options.env },
    encoding: "utf8",
    timeout: 60_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The environment without settings that would leak the developer's own setup into a test. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const leaky = (name: string): boolean =>
    name.startsWith("CSPACE_") || ["GH_TOKEN", "GITHUB_TOKEN", "GITHUB_API_URL", "FORCE_COLOR"].includes(name);
  return { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !leaky(name))), NO_COLOR: "1" };
}
