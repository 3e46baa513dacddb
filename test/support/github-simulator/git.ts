import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";

/**
 * The simulator's repositories are real bare git repositories: refs, merges
 * and mergeability are git's answers, computed the way the local forge does
 * (`merge-tree --write-tree`, `commit-tree` with the base as sole parent,
 * `update-ref` with the expected old value). No working tree is involved.
 */
const identity = {
  GIT_AUTHOR_NAME: "GitHub Simulator",
  GIT_AUTHOR_EMAIL: "simulator@example.invalid",
  GIT_COMMITTER_NAME: "GitHub Simulator",
  GIT_COMMITTER_EMAIL: "simulator@example.invalid",
};
const zeroSha = "0".repeat(40);

export interface MergeTreeResult {
  readonly clean: boolean;
  readonly tree: string;
  readonly conflicts: readonly string[];
}

export class BareRepository {
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async create(defaultBranch: string): Promise<BareRepository> {
    const dir = await mkdtemp(path.join(os.tmpdir(), "cspace-ghsim-"));
    await execa("git", ["init", "--quiet", "--bare", `--initial-branch=${defaultBranch}`, dir]);
    return new BareRepository(dir);
  }

  remove(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }

  async git(args: readonly string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const result = await execa("git", args, {
      cwd: this.dir,
      reject: false,
      env: { ...identity, ...options.env },
      ...(options.input === undefined ? { stdin: "ignore" as const } : { input: options.input }),
    });
    return { exitCode: result.exitCode ?? 1, stdout: result.stdout, stderr: result.stderr };
  }

  private async must(args: readonly string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<string> {
    const result = await this.git(args, options);
    if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed: ${result.stderr.trim()}`);
    return result.stdout.trim();
  }

  /** The commit a ref or sha names, or null. */
  async resolve(ref: string): Promise<string | null> {
    const result = await this.git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
    return result.exitCode === 0 ? result.stdout.trim() : null;
  }

  /** Sets `ref` to `sha` only if it is at `expected` (null: must not exist). False when it was not. */
  async updateRef(ref: string, sha: string, expected: string | null): Promise<boolean> {
    return (await this.git(["update-ref", ref, sha, expected ?? zeroSha])).exitCode === 0;
  }

  async deleteRef(ref: string, expected: string): Promise<boolean> {
    return (await this.git(["update-ref", "-d", ref, expected])).exitCode === 0;
  }

  async branches(): Promise<Map<string, string>> {
    const out = await this.must(["for-each-ref", "--format=%(refname:lstrip=2) %(objectname)", "refs/heads"]);
    return new Map(out === "" ? [] : out.split("\n").map((line) => line.split(" ") as [string, string]));
  }

  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    return (await this.git(["merge-base", "--is-ancestor", ancestor, descendant])).exitCode === 0;
  }

  async aheadBehind(base: string, head: string): Promise<{ ahead: number; behind: number }> {
    const [behind = "0", ahead = "0"] = (await this.must(["rev-list", "--left-right", "--count", `${base}...${head}`])).split(/\s+/);
    return { ahead: Number(ahead), behind: Number(behind) };
  }

  async mergeBase(a: string, b: string): Promise<string | null> {
    const result = await this.git(["merge-base", a, b]);
    return result.exitCode === 0 ? result.stdout.trim() : null;
  }

  /** The tree a merge of `head` into `base` would have, and the conflicting paths. Writes only objects. */
  async mergeTree(base: string, head: string): Promise<MergeTreeResult> {
    const result = await this.git(["merge-tree", "--write-tree", "--name-only", "--no-messages", base, head]);
    if (result.exitCode > 1) throw new Error(`git merge-tree failed: ${result.stderr.trim()}`);
    const [tree = "", ...paths] = result.stdout.trim().split("\n");
    return { clean: result.exitCode === 0, tree, conflicts: [...new Set(paths.filter((p) => p !== ""))] };
  }

  async commitTree(tree: string, parents: readonly string[], message: string): Promise<string> {
    return this.must(["commit-tree", tree, ...parents.flatMap((p) => ["-p", p]), "-F", "-"], { input: message });
  }

  async treeOf(commit: string): Promise<string> {
    return this.must(["rev-parse", `${commit}^{tree}`]);
  }

  /** A commit on top of `parent` (or a root commit) with `files` written (null deletes), through a throwaway index. */
  async commitFiles(parent: string | null, files: Readonly<Record<string, string | null>>, message: string): Promise<string> {
    const scratch = await mkdtemp(path.join(os.tmpdir(), "cspace-ghsim-index-"));
    const env = { GIT_INDEX_FILE: path.join(scratch, "index") };
    try {
      await this.must(parent === null ? ["read-tree", "--empty"] : ["read-tree", parent], { env });
      for (const [file, content] of Object.entries(files)) {
        if (content === null) {
          await this.must(["update-index", "--force-remove", "--", file], { env });
          continue;
        }
        const blob = await this.must(["hash-object", "-w", "--stdin"], { input: content });
        await this.must(["update-index", "--add", "--cacheinfo", `100644,${blob},${file}`], { env });
      }
      const tree = await this.must(["write-tree"], { env });
      return await this.commitTree(tree, parent === null ? [] : [parent], message);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  async readFile(commit: string, file: string): Promise<string | null> {
    const result = await this.git(["show", `${commit}:${file}`]);
    return result.exitCode === 0 ? result.stdout : null;
  }
}
