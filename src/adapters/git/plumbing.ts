import { ExternalError, UserError } from "../../core/errors.ts";
import { runGit, type GitResult } from "./run-git.ts";

/**
 * Git plumbing on a repository's git directory (usually a bare one), never a
 * working tree. Every call names the directory with --git-dir; ./run-git.ts
 * drops the GIT_* variables that would redirect git elsewhere (cspace may run
 * inside a git hook) and disables hooks: a forge's ref updates must not run
 * user code.
 */

export const ZERO_OID = "0000000000000000000000000000000000000000";

const IDENTITY = {
  GIT_AUTHOR_NAME: "cspace",
  GIT_AUTHOR_EMAIL: "cspace@localhost",
  GIT_COMMITTER_NAME: "cspace",
  GIT_COMMITTER_EMAIL: "cspace@localhost",
};

/** Runs git on `gitDir`; exit codes in `okCodes` are returned, any other is an ExternalError. */
function plumb(gitDir: string, args: readonly string[], options: { readonly okCodes?: readonly number[]; readonly input?: string } = {}): Promise<GitResult> {
  return runGit(["--git-dir", gitDir, ...args], { cwd: gitDir, env: IDENTITY, ...options });
}

const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** Returns `sha` when it is a full hexadecimal object name; a UserError otherwise (it never reaches git). */
export function assertSha(sha: string, what: string): string {
  if (!SHA.test(sha)) throw new UserError(`${what} "${sha}" is not a full commit sha (40 or 64 hexadecimal digits)`);
  return sha;
}

/** The commit a ref or sha names, or null when it names none. */
export async function resolveCommit(gitDir: string, rev: string): Promise<string | null> {
  const result = await plumb(gitDir, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${rev}^{commit}`], {
    okCodes: [0, 1, 128],
  });
  return result.exitCode === 0 ? result.stdout.trim() : null;
}

/**
 * The shas of several full ref names (`refs/heads/x`) in one git process;
 * a ref that does not exist maps to null. for-each-ref matches prefixes, so
 * only exact names are kept.
 */
export async function resolveRefs(gitDir: string, refs: readonly string[]): Promise<ReadonlyMap<string, string | null>> {
  const result = await plumb(gitDir, ["for-each-ref", "--format=%(objectname) %(refname)", "--", ...refs]);
  const found = new Map<string, string>();
  for (const line of result.stdout.split("\n")) {
    const space = line.indexOf(" ");
    if (space > 0) found.set(line.slice(space + 1), line.slice(0, space));
  }
  return new Map(refs.map((ref) => [ref, found.get(ref) ?? null]));
}

/** Whether `ancestor` is `descendant` or one of its ancestors. */
export async function isAncestor(gitDir: string, ancestor: string, descendant: string): Promise<boolean> {
  const result = await plumb(gitDir, ["merge-base", "--is-ancestor", ancestor, descendant], { okCodes: [0, 1] });
  return result.exitCode === 0;
}

/** Whether `head` has commits `base` does not. */
export async function hasCommitsBeyond(gitDir: string, base: string, head: string): Promise<boolean> {
  const result = await plumb(gitDir, ["rev-list", "--count", `${base}..${head}`]);
  return Number(result.stdout.trim()) > 0;
}

export type MergeTreeResult =
  | { readonly kind: "clean"; readonly tree: string }
  | { readonly kind: "conflict"; readonly paths: readonly string[] };

/**
 * Merges `head` into `base` in the object database only (`git merge-tree
 * --write-tree`, git 2.38+): the resulting tree, or the conflicting paths.
 * Writes objects, never refs. Histories with no common commit conflict on "/".
 */
export async function mergeTree(gitDir: string, base: string, head: string): Promise<MergeTreeResult> {
  const result = await plumb(gitDir, ["merge-tree", "--write-tree", "--name-only", "-z", base, head], {
    okCodes: [0, 1, 128],
  });
  if (result.exitCode === 128) {
    if (/unrelated histories/i.test(result.stderr)) return { kind: "conflict", paths: ["/"] };
    throw new ExternalError(`git merge-tree failed in ${gitDir}: ${result.stderr.trim()}`);
  }
  // Output: <tree>\0<path>\0...\0\0<messages>: conflicted paths run to the first empty field.
  const fields = result.stdout.split("\0");
  const tree = fields[0]?.trim() ?? "";
  if (result.exitCode === 0) return { kind: "clean", tree };
  const paths: string[] = [];
  for (const field of fields.slice(1)) {
    if (field === "") break;
    if (!paths.includes(field)) paths.push(field);
  }
  return { kind: "conflict", paths };
}

/** Writes a commit of `tree` with `parents` and `message`, as "cspace"; returns its sha. */
export async function commitTree(gitDir: string, tree: string, parents: readonly string[], message: string): Promise<string> {
  const parentArgs = parents.flatMap((parent) => ["-p", parent]);
  const result = await plumb(gitDir, ["commit-tree", ...parentArgs, tree], { input: message });
  return result.stdout.trim();
}

/**
 * Sets `ref` to `sha` only if it is still at `expected` (ZERO_OID: must not
 * exist). False when the ref was elsewhere (or locked by a concurrent update).
 */
export async function updateRef(gitDir: string, ref: string, sha: string, expected: string): Promise<boolean> {
  const result = await plumb(gitDir, ["update-ref", "-m", "cspace", ref, sha, expected], { okCodes: [0, 1, 128] });
  return result.exitCode === 0;
}

/** Deletes `ref` only if it is at `expected`; false when it was elsewhere. */
export async function deleteRef(gitDir: string, ref: string, expected: string): Promise<boolean> {
  const result = await plumb(gitDir, ["update-ref", "-d", ref, expected], { okCodes: [0, 1, 128] });
  return result.exitCode === 0;
}

/** The branch HEAD points at (`main` for `refs/heads/main`), or null when HEAD is detached. */
export async function headBranch(gitDir: string): Promise<string | null> {
  const result = await plumb(gitDir, ["symbolic-ref", "--quiet", "HEAD"], { okCodes: [0, 1, 128] });
  const ref = result.stdout.trim();
  return result.exitCode === 0 && ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : null;
}
