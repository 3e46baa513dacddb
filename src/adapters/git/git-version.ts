import { realpath } from "node:fs/promises";
import { execa } from "execa";

const TIMEOUT_MS = 10_000;

/** The output of `git --version`, or null when git is not on PATH (or does not answer). */
export async function gitVersionOutput(): Promise<string | null> {
  const result = await execa("git", ["--version"], { reject: false, timeout: TIMEOUT_MS });
  return result.exitCode === 0 ? result.stdout.trim() : null;
}

export type RepositoryKind = "bare" | "worktree" | "none";

/**
 * Whether `dir` itself is a bare git repository, lies in a repository with a
 * working tree, or is in no repository at all.
 */
export async function repositoryKind(dir: string): Promise<RepositoryKind> {
  const result = await execa("git", ["-C", dir, "rev-parse", "--is-bare-repository", "--absolute-git-dir"], {
    reject: false,
    timeout: TIMEOUT_MS,
  });
  if (result.exitCode !== 0) return "none";
  const [bare, gitDir] = result.stdout.trim().split("\n");
  if (bare !== "true") return "worktree";
  // A directory inside a bare repository (its refs/, say) answers "true" too.
  const [own, found] = await Promise.all([realpath(dir), realpath(gitDir ?? "")]).catch(() => ["", "-"]);
  return own === found ? "bare" : "none";
}
