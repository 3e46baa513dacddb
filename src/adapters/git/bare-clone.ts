import { execa } from "execa";
import { ExternalError } from "../../core/errors.ts";

const TIMEOUT_MS = 120_000;

// Variables that would point git at another repository than the one named (cspace may run in a git hook).
const REDIRECTING = ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_COMMON_DIR"];

function env(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined && !REDIRECTING.includes(entry[0])));
}

function git(args: readonly string[]) {
  return execa("git", args, { env: env(), extendEnv: false, reject: false, timeout: TIMEOUT_MS, stdin: "ignore" });
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
  const result = await git(["-c", "core.hooksPath=/dev/null", "clone", "--bare", "--quiet", "--", source, target]);
  if (result.exitCode !== 0) {
    throw new ExternalError(`git clone --bare ${source} ${target} failed: ${result.stderr.trim() || result.shortMessage}`, {
      hint: `Check that ${target}'s parent directory exists and that you may write there.`,
      cause: result,
    });
  }
  // The clone remembers the project as its origin; a forge's remote has no upstream of its own.
  await git(["--git-dir", target, "remote", "remove", "origin"]);
}
