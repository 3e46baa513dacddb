import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BranchMover } from "../../src/core/branches/port.ts";
import { ExternalError } from "../../src/core/errors.ts";
import { HeadMovedError } from "../../src/core/forge/errors.ts";

/**
 * The behaviour every BranchMover must show, run against the in-memory fake,
 * the local forge's bare repository and the GitHub simulator over smart
 * HTTP. A world starts with an empty remote; tests build history through
 * the world's set-up functions, act only through the port, and judge the
 * outcome by the remote's history and files, never by messages.
 */
export interface RemoteGitWorld {
  readonly mover: BranchMover;
  /** Commits on the remote's branch, as someone else's push would (from a branch or sha when new; else a root commit). */
  remoteCommit(branch: string, files: Readonly<Record<string, string | null>>, message: string, from?: string): Promise<string>;
  /** An agent's commit on `branch` in the instance's checkout, which starts at `from` (a sha of the remote) on first use. */
  workerCommit(instance: string, branch: string, files: Readonly<Record<string, string | null>>, message: string, from?: string): Promise<string>;
  /** A squash merge on the remote, as the forge makes it: one commit of the merged files on base's head. Returns its sha. */
  squashMerge(head: string, base: string): Promise<string>;
  readonly view: RemoteView;
  /** Anything a replay left behind on the host: directories, a rebase in progress. */
  leftovers(): Promise<readonly string[]>;
  teardown(): Promise<void>;
}

/** How tests read the remote. */
export interface RemoteView {
  branchSha(branch: string): Promise<string | null>;
  /** path → content at a commit. */
  files(sha: string): Promise<Readonly<Record<string, string>>>;
  /** Every commit reachable from `sha`, itself included. */
  history(sha: string): Promise<readonly string[]>;
  /** Messages of the commits reachable from `sha`, newest first (first parents). */
  messages(sha: string): Promise<readonly string[]>;
}

export function remoteGitContract(name: string, makeWorld: () => Promise<RemoteGitWorld>): void {
  describe(`BranchMover contract: ${name}`, () => {
    let world: RemoteGitWorld;
    beforeEach(async () => {
      world = await makeWorld();
    });
    afterEach(async () => {
      await world.teardown();
    });

    const base = () => world.remoteCommit("main", { "README.md": "hello\n", "shared.txt": "one\ntwo\nthree\n" }, "initial");

    it("fetches the remote's branches: their shas, null for a missing one, and a moved branch as it is now", async () => {
      const main = await base();
      expect([...(await world.mover.fetch(["main", "nope"]))]).toEqual([["main", main], ["nope", null]]);
      const moved = await world.remoteCommit("main", { "x.txt": "x\n" }, "moved");
      expect((await world.mover.fetch(["main"])).get("main")).toBe(moved);
    });

    it("pushes a worker's branch as new, again as a no-op, then a fast-forward, each leased", async () => {
      const main = await base();
      const first = await world.workerCommit("issue-1", "issue-1", { "a.txt": "a\n" }, "add a", main);
      expect(await world.mover.push({ instance: "issue-1", branch: "issue-1", expectedRemoteSha: null })).toBe(first);
      expect(await world.view.branchSha("issue-1")).toBe(first);
      expect(await world.mover.push({ instance: "issue-1", branch: "issue-1", expectedRemoteSha: first })).toBe(first);
      const second = await world.workerCommit("issue-1", "issue-1", { "a.txt": "a2\n" }, "change a");
      expect(await world.mover.push({ instance: "issue-1", branch: "issue-1", expectedRemoteSha: first })).toBe(second);
      expect(await world.view.branchSha("issue-1")).toBe(second);
    });

    it("refuses a push whose lease is stale, typed with both shas, and changes nothing", async () => {
      const main = await base();
      await world.workerCommit("issue-1", "issue-1", { "a.txt": "a\n" }, "add a", main);
      const theirs = await world.remoteCommit("issue-1", { "b.txt": "b\n" }, "someone else", main);
      const error = await world.mover.push({ instance: "issue-1", branch: "issue-1", expectedRemoteSha: main }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HeadMovedError);
      expect(error).toMatchObject({ expectedSha: main, actualSha: theirs });
      expect(await world.view.branchSha("issue-1")).toBe(theirs);

      const fresh = await world.mover.push({ instance: "issue-1", branch: "issue-1", expectedRemoteSha: null }).catch((e: unknown) => e);
      expect(fresh).toBeInstanceOf(HeadMovedError);
      expect(fresh).toMatchObject({ expectedSha: null, actualSha: theirs });
      expect(await world.view.branchSha("issue-1")).toBe(theirs);
    });

    it("forces over a rewritten branch when the lease holds", async () => {
      const main = await base();
      const old = await world.remoteCommit("issue-1", { "a.txt": "old\n" }, "old attempt", main);
      const rewritten = await world.workerCommit("issue-1", "issue-1", { "a.txt": "new\n" }, "new attempt", main);
      expect(await world.mover.push({ instance: "issue-1", branch: "issue-1", expectedRemoteSha: old })).toBe(rewritten);
      expect(await world.view.history(rewritten)).not.toContain(old);
      expect(await world.view.branchSha("issue-1")).toBe(rewritten);
    });

    it("reports a checkout without the branch as an error, pushing nothing", async () => {
      const main = await base();
      await world.workerCommit("issue-1", "other", { "a.txt": "a\n" }, "add a", main);
      await expect(world.mover.push({ instance: "issue-1", branch: "issue-1", expectedRemoteSha: null })).rejects.toBeInstanceOf(ExternalError);
      expect(await world.view.branchSha("issue-1")).toBeNull();
    });

    it("restacks a chain after squash merges: no parent commits left, each tree its own changes on the squash", async () => {
      const main = await base();
      // A ← B ← C, each pushed as its worker made it; B edits what A added.
      const a1 = await world.remoteCommit("issue-1", { "a.txt": "a1\n" }, "A: add a", main);
      const a2 = await world.remoteCommit("issue-1", { "a.txt": "a2\n" }, "A: refine a");
      await world.remoteCommit("issue-2", { "a.txt": "a2 by B\n", "b.txt": "b\n" }, "B: build on a", a2);
      const bOld = await world.view.branchSha("issue-2");
      await world.remoteCommit("issue-3", { "c.txt": "c\n" }, "C: add c", bOld ?? "");
      const cOld = (await world.view.branchSha("issue-3")) ?? "";

      const s1 = await world.squashMerge("issue-1", "main");
      await world.mover.fetch(["main"]);
      const b = await world.mover.restack({ branch: "issue-2", oldParentHead: a2, onto: s1 });
      expect(b).toMatchObject({ ok: true, changed: true });
      if (!b.ok) return;
      expect(await world.view.branchSha("issue-2")).toBe(b.sha);
      const bHistory = await world.view.history(b.sha);
      expect(bHistory).toContain(s1);
      expect(bHistory).not.toContain(a1);
      expect(bHistory).not.toContain(a2);
      expect(await world.view.messages(b.sha)).toEqual(["B: build on a", "squash issue-1", "initial"]);
      expect(await world.view.files(b.sha)).toEqual({ "README.md": "hello\n", "shared.txt": "one\ntwo\nthree\n", "a.txt": "a2 by B\n", "b.txt": "b\n" });

      // C sits on B's old head: restacked onto B's new one, then B merges and C is restacked again.
      const c = await world.mover.restack({ branch: "issue-3", oldParentHead: bOld ?? "", onto: "issue-2" });
      expect(c).toMatchObject({ ok: true, changed: true });
      if (!c.ok) return;
      expect(await world.view.history(c.sha)).not.toContain(cOld);
      expect(await world.view.history(c.sha)).toContain(b.sha);
      const s2 = await world.squashMerge("issue-2", "main");
      await world.mover.fetch(["main"]);
      const again = await world.mover.restack({ branch: "issue-3", oldParentHead: b.sha, onto: s2 });
      expect(again).toMatchObject({ ok: true, changed: true });
      if (!again.ok) return;
      const history = await world.view.history(again.sha);
      expect(history).toContain(s2);
      for (const gone of [a1, a2, bOld, b.sha]) expect(history).not.toContain(gone);
      expect(await world.view.files(again.sha)).toEqual({ "README.md": "hello\n", "shared.txt": "one\ntwo\nthree\n", "a.txt": "a2 by B\n", "b.txt": "b\n", "c.txt": "c\n" });
      expect(await world.leftovers()).toEqual([]);
    });

    it("answers a repeated restack as done, unchanged, without pushing", async () => {
      const main = await base();
      const a = await world.remoteCommit("issue-1", { "a.txt": "a\n" }, "A", main);
      await world.remoteCommit("issue-2", { "b.txt": "b\n" }, "B", a);
      const s = await world.squashMerge("issue-1", "main");
      await world.mover.fetch(["main"]);
      const first = await world.mover.restack({ branch: "issue-2", oldParentHead: a, onto: s });
      expect(first.ok).toBe(true);
      const second = await world.mover.restack({ branch: "issue-2", oldParentHead: a, onto: s });
      expect(second).toEqual({ ok: true, sha: first.ok ? first.sha : "", changed: false });
    });

    it("returns a restack's conflicting paths, leaves the branch as it was and no rebase behind; predictConflicts names the same paths", async () => {
      const main = await base();
      const a = await world.remoteCommit("issue-1", { "a.txt": "a\n" }, "A", main);
      const bHead = await world.remoteCommit("issue-2", { "shared.txt": "one\nTWO by B\nthree\n", "b.txt": "b\n" }, "B", a);
      // Meanwhile another issue changed the same line on main; then A merges.
      await world.remoteCommit("main", { "shared.txt": "one\n2 on main\nthree\n" }, "sibling merged");
      const s = await world.squashMerge("issue-1", "main");
      await world.mover.fetch(["main", "issue-2"]);

      const predicted = await world.mover.predictConflicts({ branch: "issue-2", onto: "main", oldParentHead: a });
      const result = await world.mover.restack({ branch: "issue-2", oldParentHead: a, onto: s });
      expect(result).toEqual({ ok: false, conflicts: ["shared.txt"] });
      expect(predicted).toEqual(["shared.txt"]);
      expect(await world.view.branchSha("issue-2")).toBe(bHead);
      expect(await world.leftovers()).toEqual([]);
    });

    it("prepares the tree that would land: the head on the base's tip now, the tree its squash merge then has, and what changed underneath", async () => {
      const main = await base();
      const a = await world.remoteCommit("issue-1", { "a.txt": "a\n" }, "A: add a", main);
      await world.remoteCommit("issue-2", { "b.txt": "b\n" }, "B: add b", main);
      const sibling = await world.squashMerge("issue-2", "main");
      const landing = await world.mover.prepareLanding({ base: "main", headBranch: "issue-1", head: a, since: main });
      if (!landing.ok) throw new Error(`expected a clean landing, got conflicts in ${landing.conflicts.join(", ")}`);
      expect(landing.baseSha).toBe(sibling);
      expect(landing.underneath).not.toBe("");
      expect(await world.mover.treeOf(landing.commit)).toBe(landing.tree);
      const squash = await world.squashMerge("issue-1", "main");
      await world.mover.fetch(["main"]);
      expect(await world.mover.treeOf(squash)).toBe(landing.tree);
      expect(await world.mover.treeOf(sibling)).not.toBe(landing.tree);
    });

    it("names the paths when the head does not merge into the base's tip", async () => {
      const main = await base();
      const head = await world.remoteCommit("issue-1", { "shared.txt": "one\nTWO by 1\nthree\n" }, "1", main);
      await world.remoteCommit("main", { "shared.txt": "one\n2 on main\nthree\n" }, "main moved");
      const landing = await world.mover.prepareLanding({ base: "main", headBranch: "issue-1", head, since: main });
      expect(landing).toMatchObject({ ok: false, conflicts: ["shared.txt"] });
    });

    it("merges a train's cars ahead first: the tree is the one the head's merge makes once they have squash-merged", async () => {
      const main = await base();
      const a = await world.remoteCommit("issue-1", { "a.txt": "a\n" }, "A: add a", main);
      const b = await world.remoteCommit("issue-2", { "b.txt": "b\n" }, "B: add b", main);
      const c = await world.remoteCommit("issue-3", { "c.txt": "c\n" }, "C: add c", main);
      await world.mover.fetch(["issue-1", "issue-2"]);
      const ahead = [{ head: a, label: "#1 Add a" }, { head: b, label: "#2 Add b" }];
      const landing = await world.mover.prepareLanding({ base: "main", headBranch: "issue-3", head: c, since: main, ahead });
      if (!landing.ok) throw new Error(`expected a clean landing, got conflicts in ${landing.conflicts.join(", ")}`);
      expect(landing.baseSha).toBe(main);
      // What changed underneath names the cars ahead, as their merges would.
      expect(landing.underneath).toContain("#1 Add a");
      expect(landing.underneath).toContain("#2 Add b");
      await world.squashMerge("issue-1", "main");
      await world.squashMerge("issue-2", "main");
      const squash = await world.squashMerge("issue-3", "main");
      await world.mover.fetch(["main"]);
      expect(await world.mover.treeOf(squash)).toBe(landing.tree);
    });

    it("names the paths when a car ahead and the head do not merge", async () => {
      const main = await base();
      const one = await world.remoteCommit("issue-1", { "shared.txt": "one\nTWO by 1\nthree\n" }, "1", main);
      const two = await world.remoteCommit("issue-2", { "shared.txt": "one\n2 by 2\nthree\n" }, "2", main);
      await world.mover.fetch(["issue-1"]);
      const landing = await world.mover.prepareLanding({ base: "main", headBranch: "issue-2", head: two, since: main, ahead: [{ head: one, label: "#1" }] });
      expect(landing).toMatchObject({ ok: false, conflicts: ["shared.txt"] });
    });

    it("predicts which siblings conflict with a new base, before anyone rebases", async () => {
      const main = await base();
      await world.remoteCommit("issue-1", { "shared.txt": "one\ntwo by 1\nthree\n" }, "1", main);
      await world.remoteCommit("issue-2", { "shared.txt": "one\ntwo by 2\nthree\n" }, "2", main);
      await world.remoteCommit("issue-3", { "other.txt": "3\n" }, "3", main);
      await world.squashMerge("issue-1", "main");
      await world.mover.fetch(["main", "issue-2", "issue-3"]);
      expect(await world.mover.predictConflicts({ branch: "issue-2", onto: "main" })).toEqual(["shared.txt"]);
      expect(await world.mover.predictConflicts({ branch: "issue-3", onto: "main" })).toEqual([]);
    });

    it("predicts a stacked branch by its own changes only: editing what its merged parent added is no conflict", async () => {
      const main = await base();
      const a = await world.remoteCommit("issue-1", { "a.txt": "a\n" }, "A", main);
      await world.remoteCommit("issue-2", { "a.txt": "a, improved by B\n" }, "B", a);
      const s = await world.squashMerge("issue-1", "main");
      await world.mover.fetch(["main", "issue-2"]);
      expect(await world.mover.predictConflicts({ branch: "issue-2", onto: s, oldParentHead: a })).toEqual([]);
      // A plain merge would count the parent's original commits too, and see both sides add a.txt.
      expect(await world.mover.predictConflicts({ branch: "issue-2", onto: s })).toEqual(["a.txt"]);
      expect(await world.mover.restack({ branch: "issue-2", oldParentHead: a, onto: s })).toMatchObject({ ok: true, changed: true });
    });

    it("lists what a branch holds over another, newest first, with each commit's first parent, up to a limit", async () => {
      const main = await base();
      const a1 = await world.remoteCommit("issue-1", { "a.txt": "a1\n" }, "A: add a\n\nThe body is not the title.", main);
      const a2 = await world.remoteCommit("issue-1", { "a.txt": "a2\n" }, "A: refine a");
      await world.mover.fetch(["main", "issue-1"]);
      expect(await world.mover.commitsBetween({ base: "main", head: "issue-1", limit: 10 })).toEqual([
        { sha: a2, title: "A: refine a", parent: a1 },
        { sha: a1, title: "A: add a", parent: main },
      ]);
      expect(await world.mover.commitsBetween({ base: main, head: a2, limit: 1 })).toEqual([{ sha: a2, title: "A: refine a", parent: a1 }]);
      expect(await world.mover.commitsBetween({ base: "issue-1", head: "main", limit: 10 })).toEqual([]);
    });

    it("reads a working agent's commits without pushing them, and predicts them against another branch: the changed paths and the conflict's hunks", async () => {
      const main = await base();
      const one = await world.remoteCommit("issue-1", { "shared.txt": "one\ntwo by 1\nthree\n" }, "1", main);
      const work = await world.workerCommit("issue-2", "issue-2", { "shared.txt": "one\ntwo by 2\nthree\n", "b.txt": "b\n" }, "2 in progress", main);
      expect(await world.mover.readWork("issue-2", "issue-2")).toBe(work);
      expect(await world.mover.readWork("issue-2", "no-such-branch")).toBeNull();
      // Read, not pushed.
      expect(await world.view.branchSha("issue-2")).toBeNull();
      await world.mover.fetch(["main", "issue-1"]);
      expect(await world.mover.changedPaths({ branch: work, onto: main })).toEqual(["b.txt", "shared.txt"]);
      expect(await world.mover.changedPaths({ branch: one, onto: main })).toEqual(["shared.txt"]);
      expect(await world.mover.predictConflicts({ branch: work, onto: one })).toEqual(["shared.txt"]);
      const hunks = await world.mover.conflictHunks({ branch: work, onto: one }, 2_000);
      expect(hunks.split("\n")[0]).toBe("--- shared.txt");
      expect(hunks).toContain("two by 1");
      expect(hunks).toContain("two by 2");
      expect(hunks).toMatch(/^<<<<<<< /m);
      expect((await world.mover.conflictHunks({ branch: work, onto: one }, 20)).length).toBeLessThanOrEqual(20);
      expect(await world.mover.conflictHunks({ branch: one, onto: main }, 2_000)).toBe("");
      // Only the paths asked for (a stacked branch's own): another conflicted path's hunks are left out.
      expect(await world.mover.conflictHunks({ branch: work, onto: one, paths: ["shared.txt"] }, 2_000)).toBe(hunks);
      expect(await world.mover.conflictHunks({ branch: work, onto: one, paths: ["b.txt"] }, 2_000)).toBe("");
    });
  });
}
