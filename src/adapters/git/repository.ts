import { runGit } from "./run-git.ts";

const TIMEOUT_MS = 10_000;

/**
 * The branch a project integrates into when no feature branch is configured:
 * the remote's HEAD when one is known, else the branch checked out, else "main".
 * Read-only: it never changes the user's repository.
 */
export async function defaultBranchOf(projectDir: string): Promise<string> {
  // Both asked at once: each is a process start, and plan waits for this on every run.
  const [remoteHead, current] = await Promise.all([
    git(projectDir, ["symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"]),
    git(projectDir, ["symbolic-ref", "--quiet", "--short", "HEAD"]),
  ]);
  if (remoteHead !== null) return remoteHead.replace(/^origin\//, "");
  return current ?? "main";
}

async function git(dir: string, args: readonly string[]): Promise<string | null> {
  const result = await runGit(["-C", dir, ...args], { okCodes: "any", timeoutMs: TIMEOUT_MS });
  return result.exitCode === 0 && result.stdout.trim() !== "" ? result.stdout.trim() : null;
}
