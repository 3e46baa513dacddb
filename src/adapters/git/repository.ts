import { readFile } from "node:fs/promises";
import path from "node:path";
import { runGit } from "./run-git.ts";

const TIMEOUT_MS = 10_000;

/**
 * The branch a project integrates into when no feature branch is configured:
 * the remote's HEAD when one is known, else the branch checked out, else "main".
 * Read-only: it never changes the user's repository.
 */
export async function defaultBranchOf(projectDir: string): Promise<string> {
  const read = await readSymbolicRefs(projectDir);
  if (read !== null) return read.remoteHead?.replace(/^origin\//, "") ?? read.current ?? "main";
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

const SYMBOLIC = /^ref: refs\/(heads|remotes)\/(\S+)\s*$/;

/**
 * The fast path for the common layout (a `.git` directory in the project):
 * HEAD and origin/HEAD are symbolic refs, which git stores as one-line files
 * and never packs, so reading them answers what `git symbolic-ref` would
 * without starting two processes (plan runs this every time). Anything else
 * (a worktree's `.git` file, the reftable format, a detached HEAD) returns
 * null and git itself is asked.
 */
async function readSymbolicRefs(projectDir: string): Promise<{ current: string | null; remoteHead: string | null } | null> {
  const gitDir = path.join(projectDir, ".git");
  const [head, remote] = await Promise.all([
    readFile(path.join(gitDir, "HEAD"), "utf8").catch(() => null),
    readFile(path.join(gitDir, "refs", "remotes", "origin", "HEAD"), "utf8").catch(() => ""),
  ]);
  const current = head === null ? null : SYMBOLIC.exec(head);
  if (current?.[1] !== "heads" || current[2] === undefined || current[2] === ".invalid") return null;
  if (remote === "") return { current: current[2], remoteHead: null };
  const remoteHead = SYMBOLIC.exec(remote);
  if (remoteHead?.[1] !== "remotes" || remoteHead[2] === undefined) return null;
  return { current: current[2], remoteHead: remoteHead[2] };
}
