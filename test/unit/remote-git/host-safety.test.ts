import { spawnSync } from "node:child_process";
import { chown, mkdir, readdir, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ExternalError } from "../../../src/core/errors.ts";
import { branchSha, git } from "../../support/git-fixtures.ts";
import { localWorld } from "../../contract/remote-git-worlds.ts";

type World = Awaited<ReturnType<typeof localWorld>>;

// Each test runs dozens of git processes: generous under a loaded machine.
describe("the branch mover on the host", { timeout: 30_000 }, () => {
  let world: World;
  let main: string;
  beforeEach(async () => {
    world = await localWorld();
    main = await world.remoteCommit("main", { "README.md": "hi\n" }, "initial");
  });
  afterEach(async () => {
    await world.teardown();
  });

  it("refuses to push from a checkout whose .git points elsewhere (a gitdir file the agent wrote)", async () => {
    await world.workerCommit("issue-1", "issue-1", { "a.txt": "a\n" }, "add a", main);
    const checkout = world.layout.checkoutOf("issue-1");
    await rm(path.join(checkout, ".git"), { recursive: true });
    await writeFile(path.join(checkout, ".git"), `gitdir: ${world.gitDir}\n`);
    await expect(world.mover.push({ instance: "issue-1", branch: "main", expectedRemoteSha: main })).rejects.toThrow(/is not a directory/);
    await expect(world.mover.push({ instance: "issue-9", branch: "issue-9", expectedRemoteSha: null })).rejects.toBeInstanceOf(ExternalError);
  });

  // The agent writes its checkout's .git: alternates or links there must not make the host read another repository.
  describe("a worker that points its checkout at another repository on the host", () => {
    /** A repository on the host the worker was never given, with a blob only it has; and the worker's commit of that blob. */
    async function plant(): Promise<{ secret: string; blob: string; sha: string; checkout: string }> {
      const secret = path.join(world.layout.root, "secret");
      await mkdir(secret);
      await git(secret, ["init", "--quiet"]);
      const blob = await git(secret, ["hash-object", "-w", "--stdin"], { input: "the host's secret\n" });
      await git(secret, ["gc", "--quiet"]);
      await world.workerCommit("issue-1", "issue-1", { "a.txt": "a\n" }, "add a", main);
      const checkout = world.layout.checkoutOf("issue-1");
      // Borrowed for a moment to commit the blob (as a worker that learned its sha would); the alternates stay planted.
      await writeFile(path.join(checkout, ".git", "objects", "info", "alternates"), `${path.join(secret, ".git", "objects")}\n`);
      await git(checkout, ["update-index", "--add", "--cacheinfo", `100644,${blob},stolen.txt`]);
      const tree = await git(checkout, ["write-tree"]);
      const sha = await git(checkout, ["commit-tree", tree, "-p", "issue-1", "-m", "steal"]);
      await git(checkout, ["update-ref", "refs/heads/issue-1", sha]);
      return { secret, blob, sha, checkout };
    }

    async function expectNowhere(blob: string): Promise<void> {
      for (const repo of [world.gitDir, world.layout.store]) {
        await expect(git(repo, ["cat-file", "-e", blob]), repo).rejects.toThrow();
      }
      expect(await branchSha(world.gitDir, "issue-1")).toBeNull();
    }

    it("through objects/info/alternates: the push fails and the blob reaches neither the store nor the remote", async () => {
      const { blob } = await plant();
      await expect(world.mover.push({ instance: "issue-1", branch: "issue-1", expectedRemoteSha: null })).rejects.toBeInstanceOf(ExternalError);
      await expectNowhere(blob);
    });

    it("through a link in place of objects/pack: the push is refused and the blob reaches neither the store nor the remote", async () => {
      const { secret, blob, checkout } = await plant();
      await rm(path.join(checkout, ".git", "objects", "info", "alternates"));
      await rm(path.join(checkout, ".git", "objects", "pack"), { recursive: true });
      await symlink(path.join(secret, ".git", "objects", "pack"), path.join(checkout, ".git", "objects", "pack"));
      await expect(world.mover.push({ instance: "issue-1", branch: "issue-1", expectedRemoteSha: null })).rejects.toThrow(/refusing to push from issue-1: .*pack is not a directory of its own/);
      await expectNowhere(blob);
    });

    it("through a link in place of its branch's ref: the push is refused", async () => {
      const { secret, checkout } = await plant();
      await git(secret, ["commit", "--quiet", "--allow-empty", "-m", "secret history"]);
      await rm(path.join(checkout, ".git", "refs", "heads", "issue-1"));
      await symlink(path.join(secret, ".git", "refs", "heads", "master"), path.join(checkout, ".git", "refs", "heads", "issue-1"));
      await expect(world.mover.push({ instance: "issue-1", branch: "issue-1", expectedRemoteSha: null })).rejects.toThrow(/refusing to push from issue-1: .*issue-1 cannot be opened as a file of its own/);
      expect(await branchSha(world.gitDir, "issue-1")).toBeNull();
    });
  });

  it.runIf(process.getuid?.() === 0)("pushes from a checkout owned by the container's user", async () => {
    const sha = await world.workerCommit("issue-1", "issue-1", { "a.txt": "a\n" }, "add a", main);
    await chownTree(world.layout.checkoutOf("issue-1"), 4321);
    expect(await world.mover.push({ instance: "issue-1", branch: "issue-1", expectedRemoteSha: null })).toBe(sha);
  });

  it("ignores the user's git configuration when it rewrites commits (signing, rerere)", async () => {
    const config = path.join(world.layout.root, "user.gitconfig");
    await writeFile(config, "[commit]\n\tgpgSign = true\n[gpg]\n\tprogram = false\n[rerere]\n\tenabled = true\n");
    const a = await world.remoteCommit("issue-1", { "a.txt": "a\n" }, "A", main);
    await world.remoteCommit("issue-2", { "b.txt": "b\n" }, "B", a);
    const s = await world.squashMerge("issue-1", "main");
    const saved = process.env.GIT_CONFIG_GLOBAL;
    process.env.GIT_CONFIG_GLOBAL = config;
    try {
      await world.mover.fetch(["main"]);
      expect(await world.mover.restack({ branch: "issue-2", oldParentHead: a, onto: s })).toMatchObject({ ok: true, changed: true });
    } finally {
      if (saved === undefined) delete process.env.GIT_CONFIG_GLOBAL;
      else process.env.GIT_CONFIG_GLOBAL = saved;
    }
  });

  it("sweeps replay checkouts left by a process that is gone, and keeps those of live ones", async () => {
    const gone = spawnSync("true").pid;
    await mkdir(path.join(world.layout.scratchDir, `restack-${String(gone)}-abc`, ".git", "rebase-merge"), { recursive: true });
    await mkdir(path.join(world.layout.scratchDir, "restack-1-def"), { recursive: true });
    const a = await world.remoteCommit("issue-1", { "a.txt": "a\n" }, "A", main);
    await world.remoteCommit("issue-2", { "b.txt": "b\n" }, "B", a);
    const s = await world.squashMerge("issue-1", "main");
    await world.mover.fetch(["main"]);
    await world.mover.restack({ branch: "issue-2", oldParentHead: a, onto: s });
    expect((await readdir(world.layout.scratchDir)).sort()).toEqual(["host.gitconfig", "restack-1-def"]);
  });

  it("serialises concurrent writes to the store: parallel pushes of several workers all land", async () => {
    const shas = await Promise.all([1, 2, 3, 4].map((n) => world.workerCommit(`issue-${String(n)}`, `issue-${String(n)}`, { [`f${String(n)}.txt`]: "x\n" }, `n${String(n)}`, main)));
    const pushed = await Promise.all([1, 2, 3, 4].map((n) => world.mover.push({ instance: `issue-${String(n)}`, branch: `issue-${String(n)}`, expectedRemoteSha: null })));
    expect(pushed).toEqual(shas);
    // The store mirrors what was pushed, for workers' origin and later leases.
    expect(await git(world.layout.store, ["rev-parse", "refs/heads/issue-3", "refs/remotes/forge/issue-3"])).toBe(`${shas[2] ?? ""}\n${shas[2] ?? ""}`);
  });

  it("names what it cannot find: a branch never on the remote, a squash commit not fetched", async () => {
    await expect(world.mover.predictConflicts({ branch: "nope", onto: "main" })).rejects.toThrow(/nope is neither a branch of the remote nor a commit/);
    await expect(world.mover.restack({ branch: "nope", oldParentHead: main, onto: "main" })).rejects.toThrow(/does not exist on the local forge's remote/);
    const a = await world.remoteCommit("issue-1", { "a.txt": "a\n" }, "A", main);
    await world.remoteCommit("issue-2", { "b.txt": "b\n" }, "B", a);
    const s = await world.squashMerge("issue-1", "main");
    await expect(world.mover.restack({ branch: "issue-2", oldParentHead: a, onto: s })).rejects.toThrow(/not in the host's store/);
  });
});

async function chownTree(dir: string, uid: number): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) await chown(path.join(entry.parentPath, entry.name), uid, uid);
  await chown(dir, uid, uid);
}
