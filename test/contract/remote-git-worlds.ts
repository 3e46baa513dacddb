import { mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { createGitBranchMover } from "../../src/adapters/git/remote/git-branch-mover.ts";
import { githubRemote } from "../../src/adapters/git/remote/github-remote.ts";
import { localRemote, type GitRemote } from "../../src/adapters/git/remote/remote.ts";
import { FakeBranchMover } from "../fakes/branch-mover.ts";
import { startGithubSimulator, type GithubSimulator } from "../support/github-simulator/server.ts";
import { branchSha, commitFiles, expectedMergeTree, git, initBareRepo, tempDir } from "../support/git-fixtures.ts";
import type { RemoteGitWorld, RemoteView } from "./remote-git-contract.ts";

/** Where a real BranchMover keeps things in a test: the store, its scratch directory, the workers' checkouts. */
export interface HostLayout {
  readonly root: string;
  readonly store: string;
  readonly scratchDir: string;
  readonly checkoutOf: (instance: string) => string;
}

export function hostLayout(root: string): HostLayout {
  return {
    root,
    store: path.join(root, "data", "objects.git"),
    scratchDir: path.join(root, "data", "scratch"),
    checkoutOf: (instance) => path.join(root, "workspaces", instance),
  };
}

/** A world over a real bare repository `gitDir` reached through `remote`. */
export function gitWorld(gitDir: string, remote: GitRemote, layout: HostLayout, teardown: () => Promise<void>): RemoteGitWorld {
  const mover = createGitBranchMover({ remote, store: layout.store, scratchDir: layout.scratchDir, checkoutOf: layout.checkoutOf });
  return {
    mover,
    remoteCommit: (branch, files, message, from) => commitFiles(gitDir, branch, files, message, { from: from ?? null }),
    async workerCommit(instance, branch, files, message, from) {
      const checkout = layout.checkoutOf(instance);
      const own = path.join(checkout, ".git");
      if ((await readdir(checkout).catch(() => null)) === null) {
        await mkdir(checkout, { recursive: true });
        await git(checkout, ["init", "--quiet"]);
      }
      // A worker's checkout holds the remote's history, as a clone of the store does.
      if (from !== undefined) await git(checkout, ["fetch", "--quiet", gitDir, "+refs/heads/*:refs/remotes/origin/*"]);
      return commitFiles(own, branch, files, message, { from: from ?? null });
    },
    async squashMerge(head, base) {
      const baseSha = (await branchSha(gitDir, base)) ?? "";
      const headSha = (await branchSha(gitDir, head)) ?? "";
      const tree = await expectedMergeTree(gitDir, baseSha, headSha);
      if (tree === null) throw new Error(`${head} conflicts with ${base}`);
      const sha = await git(gitDir, ["commit-tree", tree, "-p", baseSha, "-m", `squash ${head}`]);
      await git(gitDir, ["update-ref", `refs/heads/${base}`, sha, baseSha]);
      return sha;
    },
    view: gitView(gitDir),
    async leftovers() {
      const entries = (await readdir(layout.scratchDir).catch(() => [] as string[])).filter((entry) => entry !== "host.gitconfig");
      const inStore = (await readdir(layout.store).catch(() => [] as string[])).filter((entry) => /^rebase-(merge|apply)$/.test(entry));
      return [...entries, ...inStore];
    },
    teardown,
  };
}

function gitView(gitDir: string): RemoteView {
  return {
    branchSha: (branch) => branchSha(gitDir, branch),
    async files(sha) {
      const names = (await git(gitDir, ["ls-tree", "-r", "-z", "--name-only", sha])).split("\0").filter((n) => n !== "");
      const files: Record<string, string> = {};
      for (const name of names) files[name] = (await execa("git", ["-C", gitDir, "cat-file", "blob", `${sha}:${name}`], { stripFinalNewline: false })).stdout;
      return files;
    },
    history: async (sha) => (await git(gitDir, ["rev-list", sha])).split("\n"),
    messages: async (sha) => (await git(gitDir, ["log", "--first-parent", "--format=%s", sha])).split("\n"),
  };
}

export async function localWorld(): Promise<RemoteGitWorld & { readonly layout: HostLayout; readonly gitDir: string }> {
  const root = await tempDir("cspace-remote-git-");
  const gitDir = await initBareRepo(path.join(root.dir, "remote.git"));
  const layout = hostLayout(root.dir);
  const world = gitWorld(gitDir, localRemote(root.dir, "remote.git"), layout, () => root.remove());
  return { ...world, layout, gitDir };
}

export interface GithubWorld extends RemoteGitWorld {
  readonly simulator: GithubSimulator;
  readonly layout: HostLayout;
}

export async function githubWorld(options: { readonly token?: string } = {}): Promise<GithubWorld> {
  const root = await tempDir("cspace-remote-git-gh-");
  const simulator = await startGithubSimulator({ repo: "octo/widgets" });
  const layout = hostLayout(root.dir);
  const remote = githubRemote({ repo: simulator.repo, apiUrl: simulator.url, token: options.token ?? simulator.token });
  const world = gitWorld(simulator.world.git.dir, remote, layout, async () => {
    try {
      simulator.assertNoViolations();
    } finally {
      await simulator.close();
      await root.remove();
    }
  });
  return { ...world, simulator, layout };
}

export function fakeWorld(): RemoteGitWorld {
  const fake = new FakeBranchMover();
  const history = (sha: string) => [...fake.graph.ancestors(sha)];
  return {
    mover: fake,
    remoteCommit: (branch, files, message, from) => Promise.resolve(fake.remoteCommit(branch, files, message, from)),
    workerCommit: (instance, branch, files, message, from) => Promise.resolve(fake.workerCommit(instance, branch, files, message, from)),
    squashMerge: (head, base) => Promise.resolve(fake.squashMerge(head, base)),
    view: {
      branchSha: (branch) => Promise.resolve(fake.remote.get(branch) ?? null),
      files: (sha) => Promise.resolve(Object.fromEntries(fake.graph.get(sha).files)),
      history: (sha) => Promise.resolve(history(sha)),
      messages(sha) {
        const messages: string[] = [];
        for (let at: string | undefined = sha; at !== undefined; at = fake.graph.get(at).parents[0]) messages.push(fake.graph.get(at).message);
        return Promise.resolve(messages);
      },
    },
    leftovers: () => Promise.resolve([]),
    teardown: () => Promise.resolve(),
  };
}
