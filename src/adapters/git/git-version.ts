import { realpath } from "node:fs/promises";
import { CspaceError } from "../../core/errors.ts";
import { runGit } from "./run-git.ts";

const TIMEOUT_MS = 10_000;

/** The output of `git --version`, or null when git is not on PATH (or does not answer). */
export async function gitVersionOutput(): Promise<string | null> {
  try {
    const result = await runGit(["--version"], { timeoutMs: TIMEOUT_MS });
    return result.stdout.trim();
  } catch (error) {
    if (error instanceof CspaceError) return null;
    throw error;
  }
}

export type RepositoryKind = "bare" | "worktree" | "none";

/**
 * Whether `dir` itself is a bare git repository, lies in a repository with a
 * working tree, or is in no repository at all. Asked of `dir` even inside a
 * git hook, where GIT_DIR would otherwise answer instead (./run-git.ts).
 */
export async function repositoryKind(dir: string): Promise<RepositoryKind> {
  const result = await runGit(["-C", dir, "rev-parse", "--is-bare-repository", "--absolute-git-dir"], { okCodes: "any", timeoutMs: TIMEOUT_MS });
  if (result.exitCode !== 0) return "none";
  const [bare, gitDir] = result.stdout.trim().split("\n");
  if (bare !== "true") return "worktree";
  // A directory inside a bare repository (its refs/, say) answers "true" too.
  const [own, found] = await Promise.all([realpath(dir), realpath(gitDir ?? "")]).catch(() => ["", "-"]);
  return own === found ? "bare" : "none";
}
