import { ExternalError } from "../../core/errors.ts";
import { runGit } from "./run-git.ts";

const TIMEOUT_MS = 120_000;

/** Exit codes are answers here (not a repository, no commits); only a git that could not run throws. */
function git(args: readonly string[]) {
  return runGit(args, { okCodes: "any", timeoutMs: TIMEOUT_MS });
}

export type WorkTreeState =
  | { readonly kind: "none" }
  | { readonly kind: "no-commits"; readonly top: string }
  | { readonly kind: "ready"; readonly top: string; readonly branch: string | null };

/** Whether `dir` is in a git working tree, and whether that has a commit to clone. */
export async function workTreeState(dir: string): Promise<WorkTreeState> {
  const top = await git(["-C", dir, "rev-parse", "--show-toplevel"]);
  if (top.exitCode !== 0 || top.stdout.trim() === "") return { kind: "none" };
  const topDir = top.stdout.trim();
  const head = await git(["-C", topDir, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"]);
  if (head.exitCode !== 0) return { kind: "no-commits", top: topDir };
  const branch = await git(["-C", topDir, "symbolic-ref", "--quiet", "--short", "HEAD"]);
  return { kind: "ready", top: topDir, branch: branch.exitCode === 0 ? branch.stdout.trim() : null };
}

/** `git clone --bare`: every branch and tag of `source`, with its HEAD, in a new bare repository at `target`. */
export async function cloneBare(source: string, target: string): Promise<void> {
  const result = await git(["clone", "--bare", "--quiet", "--", source, target]);
  if (result.exitCode !== 0) {
    throw new ExternalError(`git clone --bare ${source} ${target} failed: ${result.stderr.trim() || `exit ${String(result.exitCode)}`}`, {
      hint: `Check that ${target}'s parent directory exists and that you may write there.`,
    });
  }
  // The clone remembers the project as its origin; a forge's remote has no upstream of its own.
  await runGit(["--git-dir", target, "remote", "remove", "origin"], { timeoutMs: TIMEOUT_MS });
}
