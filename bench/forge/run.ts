// Measures a squash merge on the local forge (git plumbing, no working tree)
// against `git merge --squash` + `git commit` in a worktree of the same
// repository, on a repository with a few hundred commits. Each run merges a
// fresh branch pair (a base one commit past main, a head three commits past
// it). Run: `node bench/forge/run.ts`. Prints medians and the ratio.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { createLocalForge } from "../../src/adapters/forge/local/local-forge.ts";
import { commitFiles, initBareRepo, tempDir } from "../../test/support/git-fixtures.ts";
import { mergeWithTwoDependentsRequests } from "./github-requests.ts";
import { fileContent, filePath, writeHistory } from "./history.ts";

const SHAPE = { commits: 400, files: 300 };
const RUNS = 9;
const ENV = {
  GIT_AUTHOR_NAME: "bench",
  GIT_AUTHOR_EMAIL: "bench@cspace.invalid",
  GIT_COMMITTER_NAME: "bench",
  GIT_COMMITTER_EMAIL: "bench@cspace.invalid",
};

interface Pair {
  readonly base: string;
  readonly head: string;
  readonly headSha: string;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** A base one commit past main and a head three commits past main, touching other files. */
async function branchPair(gitDir: string, run: number, kind: string): Promise<Pair> {
  const base = `bench/${kind}-base-${String(run)}`;
  const head = `bench/${kind}-head-${String(run)}`;
  await commitFiles(gitDir, base, { [filePath(1)]: fileContent(1, 10_000 + run) }, "base moves on", { from: "main" });
  let headSha = "";
  for (const f of [5, 6, 7]) {
    headSha = await commitFiles(gitDir, head, { [filePath(f)]: fileContent(f, 20_000 + run), [`new/${String(f)}.ts`]: "x\n" }, `work ${String(f)}`, { from: "main" });
  }
  return { base, head, headSha };
}

async function timeLocalForge(projectDir: string, gitDir: string): Promise<number[]> {
  const forge = createLocalForge({ projectDir, issuesDir: ".cspace/issues", remote: gitDir });
  const times: number[] = [];
  for (let run = 0; run <= RUNS; run++) {
    const pair = await branchPair(gitDir, run, "forge");
    const pr = await forge.openPullRequest({ head: pair.head, base: pair.base, title: `Run ${String(run)}`, body: "" });
    const started = performance.now();
    await forge.squashMerge(pr.number, { expectedHeadSha: pair.headSha, title: `Run ${String(run)} (#${String(pr.number)})`, message: "bench" });
    // Run 0 warms caches and is not counted.
    if (run > 0) times.push(performance.now() - started);
  }
  return times;
}

async function timeWorktree(gitDir: string, worktree: string): Promise<number[]> {
  const git = (args: readonly string[]) => execa("git", ["-c", "core.hooksPath=/dev/null", "-C", worktree, ...args], { env: ENV });
  await execa("git", ["--git-dir", gitDir, "worktree", "add", "--quiet", "--detach", worktree, "main"]);
  const times: number[] = [];
  for (let run = 0; run <= RUNS; run++) {
    const pair = await branchPair(gitDir, run, "worktree");
    await git(["checkout", "--quiet", "--detach", "main"]);
    // A worktree merge must check the base out first, and its commit must move
    // the base branch, as the forge's update-ref does: both are timed.
    const started = performance.now();
    await git(["checkout", "--quiet", pair.base]);
    await git(["merge", "--squash", "--quiet", pair.head]);
    await git(["commit", "--quiet", "-m", `Run ${String(run)}`]);
    if (run > 0) times.push(performance.now() - started);
  }
  return times;
}

/**
 * GITHUB HALF: how many REST requests the GitHub forge sends to merge one pull
 * request with two dependents, counted on the simulator (./github-requests.ts).
 */
async function githubRequestCount(): Promise<number> {
  return (await mergeWithTwoDependentsRequests()).length;
}

async function main(): Promise<void> {
  const root = await tempDir("cspace-bench-forge-");
  try {
    const gitDir = await initBareRepo(path.join(root.dir, "remote.git"));
    await writeHistory(gitDir, SHAPE);
    const projectDir = path.join(root.dir, "project");
    await mkdir(path.join(projectDir, ".cspace", "issues"), { recursive: true });

    const forgeMs = median(await timeLocalForge(projectDir, gitDir));
    const worktreeMs = median(await timeWorktree(gitDir, path.join(root.dir, "worktree")));
    console.log(`repository: ${String(SHAPE.commits)} commits, ${String(SHAPE.files)} files; median of ${String(RUNS)} runs each`);
    console.log(`local forge squash merge (merge-tree + commit-tree + update-ref): ${forgeMs.toFixed(1)} ms`);
    console.log(`worktree git merge --squash + git commit:                        ${worktreeMs.toFixed(1)} ms`);
    console.log(`ratio local forge / worktree: ${(forgeMs / worktreeMs).toFixed(2)}`);
    const requests = await githubRequestCount();
    console.log(`GitHub requests to merge one PR with two dependents: ${String(requests)}`);
  } finally {
    await root.remove();
  }
}

await main();
