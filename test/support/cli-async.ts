import { spawn } from "node:child_process";
import { binPath, cleanEnv, repoRoot, type CliResult } from "./cli.ts";

/**
 * Runs the real `bin/cspace` without blocking the test's event loop, for
 * tests whose CLI talks to a server in the test process (the GitHub
 * simulator): runCli's spawnSync would leave that server unable to answer.
 */
export function runCliAsync(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...cleanEnv(), ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
      // Killed past this (a whole demo on a busy machine takes minutes: its test says how long).
      timeout: options.timeoutMs ?? 60_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (status) => {
      resolve({ status, stdout, stderr });
    });
  });
}
