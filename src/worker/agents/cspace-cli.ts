import { spawn } from "node:child_process";

/** The in-container cspace CLI the scripted agent runs: CSPACE_CLI names another executable, else `cspace` on PATH. */
export function cspaceCliFrom(env: Readonly<Record<string, string | undefined>>): string {
  return env.CSPACE_CLI === undefined || env.CSPACE_CLI === "" ? "cspace" : env.CSPACE_CLI;
}

/**
 * Runs a command to its end: its exit code, or "missing" when there is no
 * such executable (ENOENT). stdout is dropped and stderr passed on.
 */
export function runCli(command: string, args: readonly string[], cwd: string, env: Readonly<Record<string, string | undefined>>): Promise<number | "missing"> {
  return new Promise((resolve) => {
    const child = spawn(command, [...args], { cwd, env, stdio: ["ignore", "ignore", "inherit"] });
    child.on("error", (error: NodeJS.ErrnoException) => {
      resolve(error.code === "ENOENT" ? "missing" : 127);
    });
    child.on("close", (code) => {
      resolve(code ?? 128);
    });
  });
}
