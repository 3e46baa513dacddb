import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";

/**
 * Real git repositories for tests, built with plumbing only (no working tree,
 * no user config needed). Both forges' test worlds use these, so a commit made
 * here is exactly what a workspace would have pushed.
 */

const IDENTITY = {
  GIT_AUTHOR_NAME: "cspace test",
  GIT_AUTHOR_EMAIL: "test@cspace.invalid",
  GIT_COMMITTER_NAME: "cspace test",
  GIT_COMMITTER_EMAIL: "test@cspace.invalid",
};

const ZERO_OID = "0000000000000000000000000000000000000000";

/** Runs git in `gitDir` (a bare repository or a worktree) and returns trimmed stdout; throws on failure. */
export async function git(
  gitDir: string,
  args: readonly string[],
  options: { readonly input?: string; readonly env?: Readonly<Record<string, string>> } = {},
): Promise<string> {
  const result = await execa("git", ["-C", gitDir, ...args], {
    env: { ...IDENTITY, ...options.env },
    ...(options.input === undefined ? {} : { input: options.input }),
    reject: false,
    stripFinalNewline: false,
  });
  if (result.exitCode !== 0) {
    throw new Error(`git ${args.join(" ")} failed (${String(result.exitCode)}): ${result.stderr}`);
  }
  return result.stdout.trim();
}

/** A temporary directory removed by the returned function. */
export async function tempDir(prefix: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Creates an empty bare repository whose HEAD names `defaultBranch`. */
export async function initBareRepo(dir: string, defaultBranch = "main"): Promise<string> {
  await execa("git", ["init", "--quiet", "--bare", `--initial-branch=${defaultBranch}`, dir]);
  return dir;
}

/** The sha of `refs/heads/<branch>`, or null when it does not exist. */
export async function branchSha(gitDir: string, branch: string): Promise<string | null> {
  const result = await execa("git", ["-C", gitDir, "rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`], {
    reject: false,
  });
  return result.exitCode === 0 ? result.stdout.trim() : null;
}

export interface CommitOptions {
  /**
   * Where a new branch starts: a branch name or sha. Ignored when the branch
   * exists (it advances from its tip). null: a root commit. Default: the
   * repository's HEAD branch when it has commits, else a root commit.
   */
  readonly from?: string | null | undefined;
}

/**
 * Commits `files` (path → content; null deletes the path) on top of `branch`
 * and moves the branch there, creating it if needed. Returns the new sha.
 */
export async function commitFiles(
  gitDir: string,
  branch: string,
  files: Readonly<Record<string, string | null>>,
  message: string,
  options: CommitOptions = {},
): Promise<string> {
  const existing = await branchSha(gitDir, branch);
  const parent = existing ?? (await startingPoint(gitDir, options.from));
  const scratch = await tempDir("cspace-index-");
  try {
    const env = { GIT_INDEX_FILE: path.join(scratch.dir, "index") };
    if (parent === null) await git(gitDir, ["read-tree", "--empty"], { env });
    else await git(gitDir, ["read-tree", parent], { env });
    const lines: string[] = [];
    for (const [file, content] of Object.entries(files)) {
      if (content === null) {
        lines.push(`0 ${ZERO_OID}\t${file}`);
      } else {
        const blob = await git(gitDir, ["hash-object", "-w", "--stdin"], { input: content });
        lines.push(`100644 ${blob}\t${file}`);
      }
    }
    if (lines.length > 0) await git(gitDir, ["update-index", "--index-info"], { env, input: `${lines.join("\n")}\n` });
    const tree = await git(gitDir, ["write-tree"], { env });
    const parents = parent === null ? [] : ["-p", parent];
    const sha = await git(gitDir, ["commit-tree", tree, ...parents, "-m", message]);
    await git(gitDir, ["update-ref", `refs/heads/${branch}`, sha, existing ?? ZERO_OID]);
    return sha;
  } finally {
    await scratch.remove();
  }
}

async function startingPoint(gitDir: string, from: string | null | undefined): Promise<string | null> {
  if (from === null) return null;
  if (from !== undefined) {
    const named = (await branchSha(gitDir, from)) ?? from;
    return git(gitDir, ["rev-parse", "--verify", `${named}^{commit}`]);
  }
  const head = await execa("git", ["-C", gitDir, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"], { reject: false });
  return head.exitCode === 0 ? head.stdout.trim() : null;
}

/** The tree oid of a commit. */
export function treeOf(gitDir: string, rev: string): Promise<string> {
  return git(gitDir, ["rev-parse", `${rev}^{tree}`]);
}

/** The parent shas of a commit, in order. */
export async function parentsOf(gitDir: string, sha: string): Promise<readonly string[]> {
  const line = await git(gitDir, ["rev-list", "--parents", "-n", "1", sha]);
  return line.split(" ").slice(1);
}

/** The full commit message of a commit. */
export function messageOf(gitDir: string, sha: string): Promise<string> {
  return git(gitDir, ["log", "-1", "--format=%B", sha]);
}

/** The content of `file` at `rev`. */
export function fileAt(gitDir: string, rev: string, file: string): Promise<string> {
  return git(gitDir, ["show", `${rev}:${file}`]);
}

/**
 * The tree a merge of `head` into `base` produces, computed here independently
 * of any forge (`git merge-tree --write-tree`), or null on conflict.
 */
export async function expectedMergeTree(gitDir: string, base: string, head: string): Promise<string | null> {
  const result = await execa("git", ["-C", gitDir, "merge-tree", "--write-tree", base, head], { reject: false });
  if (result.exitCode === 1) return null;
  if (result.exitCode !== 0) throw new Error(`git merge-tree failed: ${result.stderr}`);
  return result.stdout.split("\n")[0]?.trim() ?? null;
}

/** How many commits `rev` has (first-parent), to see that a merge added exactly one. */
export async function firstParentCount(gitDir: string, rev: string): Promise<number> {
  return Number(await git(gitDir, ["rev-list", "--first-parent", "--count", rev]));
}
