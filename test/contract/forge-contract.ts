import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CspaceError, UserError } from "../../src/core/errors.ts";
import { ForgeConflictError, ForgeNotFoundError, HeadMovedError, RateLimitedError } from "../../src/core/forge/errors.ts";
import type { Forge } from "../../src/core/forge/port.ts";
import { branchSha, expectedMergeTree, firstParentCount, messageOf, parentsOf, treeOf } from "../support/git-fixtures.ts";

/**
 * The behaviour every Forge must show, run against the local forge
 * (test/contract/local-forge.test.ts) and the GitHub forge on its simulator.
 *
 * A test world starts EMPTY: a repository whose default branch is `main`
 * with no commits yet, and no issues. Tests build what they need through the
 * seed, then act only through the Forge and check the outcome in the
 * repository through a {@link RepositoryView}: for real forges, git on the
 * bare repository behind them (test/support/git-fixtures.ts); for the
 * in-memory fake, its own commits.
 */
export interface ForgeSeed {
  /** The bare repository behind the forge, when there is one: tests then read it with git. */
  readonly gitDir?: string | undefined;
  /**
   * Commits `files` (path → content, null deletes) on top of `branch` and moves
   * it there, as a push would; a missing branch starts from `from` (a branch or
   * sha), else from `main`, else is a root commit. Returns the new sha.
   * `commitFiles` in test/support/git-fixtures.ts does exactly this on a bare repository.
   */
  commit(branch: string, files: Readonly<Record<string, string | null>>, message: string, from?: string): Promise<string>;
  /** Creates issues with these exact numbers (GitHub simulator: numbers it has not used yet). */
  issues(issues: readonly SeedIssue[]): Promise<void>;
  /** The bodies of the comments on an issue, oldest first. */
  comments(number: number): Promise<readonly string[]>;
}

export interface SeedIssue {
  readonly number: number;
  readonly title: string;
  readonly body?: string;
  readonly labels?: readonly string[];
  readonly milestone?: string | null;
  readonly state?: "open" | "closed";
  /** Makes it a sub-issue of this issue (seeded in the same call or before): `parent:` in a local issue's front matter, GitHub's sub-issue list. */
  readonly parent?: number;
}

/**
 * Faults a simulated forge can inject; the local forge has none. `next(kind)`
 * arms one fault for the next request it fits (`times` consecutive ones):
 * - "server-error": a 500 on the next request of any kind;
 * - "secondary-rate-limit": a 403 with GitHub's secondary-rate-limit wording and
 *   headers (`retry-after: 1`) on the next request;
 * - "mergeable-null": the next `times` pulls.get answer `mergeable: null`;
 * - "base-modified": the next pulls.merge answers 405 "Base branch was modified. Review and try the merge again.";
 * - "head-moved": on the next pulls.merge the simulator first pushes a new
 *   commit to the PR's head branch (so the merge must answer 409).
 */
export type FaultKind = "server-error" | "secondary-rate-limit" | "mergeable-null" | "base-modified" | "head-moved";

export interface FaultInjector {
  next(kind: FaultKind, options?: { readonly times?: number }): void;
}

/** How tests read the repository behind a forge, to check what the forge did. */
export interface RepositoryView {
  branchSha(branch: string): Promise<string | null>;
  parents(sha: string): Promise<readonly string[]>;
  /** An id of the commit's tree: equal trees, equal ids. */
  tree(sha: string): Promise<string>;
  message(sha: string): Promise<string>;
  /** Commits on the first-parent line of `rev`. */
  firstParentCount(rev: string): Promise<number>;
  /** The tree a clean merge of `head` into `base` must produce; null when they conflict. */
  expectedMergeTree(base: string, head: string): Promise<string | null>;
}

/** A RepositoryView reading a bare repository with git. */
export function gitRepositoryView(gitDir: string): RepositoryView {
  return {
    branchSha: (branch) => branchSha(gitDir, branch),
    parents: (sha) => parentsOf(gitDir, sha),
    tree: (sha) => treeOf(gitDir, sha),
    message: (sha) => messageOf(gitDir, sha),
    firstParentCount: (rev) => firstParentCount(gitDir, rev),
    expectedMergeTree: (base, head) => expectedMergeTree(gitDir, base, head),
  };
}

export interface ForgeWorld {
  readonly forge: Forge;
  readonly seed: ForgeSeed;
  /** Default: git on `seed.gitDir`. */
  readonly repository?: RepositoryView | undefined;
  readonly faults?: FaultInjector | undefined;
  teardown(): Promise<void>;
}

export interface ContractOptions {
  /** Registers the fault tests; `setup` must then return `faults`. */
  readonly injectsFaults?: boolean;
}

export function forgeContract(name: string, setup: () => Promise<ForgeWorld>, options: ContractOptions = {}): void {
  describe(`Forge contract: ${name}`, () => {
    let world: ForgeWorld;
    let forge: Forge;
    let seed: ForgeSeed;
    let repository: RepositoryView;

    beforeEach(async () => {
      world = await setup();
      forge = world.forge;
      seed = world.seed;
      const gitDir = seed.gitDir;
      if (world.repository === undefined && gitDir === undefined) throw new Error(`${name}: the world has neither a repository view nor a gitDir`);
      repository = world.repository ?? gitRepositoryView(gitDir ?? "");
    });
    afterEach(async () => {
      await world.teardown();
    });

    /** main with two files, and `issue-5` one commit ahead of it. */
    async function onePullRequestWorld(): Promise<{ base: string; head: string }> {
      const base = await seed.commit("main", { "README.md": "hello\n", "src/a.txt": "a\n" }, "initial");
      const head = await seed.commit("issue-5", { "src/b.txt": "b\n" }, "add b", "main");
      return { base, head };
    }

    const draft = { head: "issue-5", base: "main", title: "Add b", body: "Closes #5" } as const;
    const mergeOptions = (expectedHeadSha: string) => ({ expectedHeadSha, title: "Add b (#5)", message: "Squash-merged issue-5." });

    it("reports itself usable to doctor", async () => {
      const checks = await forge.check();
      expect(checks.map((check) => check.id)).toContain("forge");
      for (const check of checks) expect(check).toMatchObject({ status: "pass", required: true });
    });

    it("names main as the default branch", async () => {
      await seed.commit("main", { "README.md": "hello\n" }, "initial");
      expect(await forge.defaultBranch()).toBe("main");
    });

    describe("pull requests", () => {
      it("opens a pull request and finds it by its head branch", async () => {
        const { head } = await onePullRequestWorld();
        const opened = await forge.openPullRequest(draft);
        expect(opened).toMatchObject({ title: "Add b", head: "issue-5", base: "main", headSha: head, state: "open", mergeSha: null });
        expect(opened.number).toBeGreaterThan(0);
        const found = await forge.findPullRequest("issue-5");
        expect(found?.number).toBe(opened.number);
        expect(await forge.findPullRequest("issue-6")).toBeNull();
      });

      it("updates the open pull request of a head instead of opening a second one", async () => {
        await onePullRequestWorld();
        const first = await forge.openPullRequest(draft);
        const second = await forge.openPullRequest({ ...draft, title: "Add b, retitled" });
        expect(second.number).toBe(first.number);
        expect((await forge.getPullRequest(first.number)).title).toBe("Add b, retitled");
      });

      it("refuses a pull request with no commits between base and head", async () => {
        const base = await seed.commit("main", { "README.md": "hello\n" }, "initial");
        await forge.createBranch("issue-5", base);
        await expect(forge.openPullRequest(draft)).rejects.toThrow(/no commits/i);
      });

      it("refuses a pull request whose head or base branch does not exist", async () => {
        await onePullRequestWorld();
        await expect(forge.openPullRequest({ ...draft, head: "issue-9" })).rejects.toBeInstanceOf(ForgeNotFoundError);
        await expect(forge.openPullRequest({ ...draft, base: "nowhere" })).rejects.toBeInstanceOf(ForgeNotFoundError);
      });

      it("reports a pull request that merges cleanly as mergeable", async () => {
        await onePullRequestWorld();
        const opened = await forge.openPullRequest(draft);
        const read = await forge.getPullRequest(opened.number);
        expect(read.mergeability).toBe("mergeable");
        expect(read.conflicts).toEqual([]);
      });

      it("squash-merges into exactly one new commit on the base whose tree is the merge result", async () => {
        const { base, head } = await onePullRequestWorld();
        await seed.commit("main", { "README.md": "hello, main moved on\n" }, "main moves");
        const baseBefore = await repository.branchSha("main");
        if (baseBefore === null) throw new Error("main vanished");
        const expectedTree = await repository.expectedMergeTree(baseBefore, head);
        const countBefore = await repository.firstParentCount("main");
        const opened = await forge.openPullRequest(draft);

        const result = await forge.squashMerge(opened.number, mergeOptions(head));

        expect(await repository.branchSha("main")).toBe(result.sha);
        expect(await repository.parents(result.sha)).toEqual([baseBefore]);
        expect(await repository.tree(result.sha)).toBe(expectedTree);
        expect(await repository.firstParentCount("main")).toBe(countBefore + 1);
        const message = await repository.message(result.sha);
        expect(message.split("\n")[0]).toBe("Add b (#5)");
        expect(message).toContain("Squash-merged issue-5.");
        expect(base).not.toBe(result.sha);
        const merged = await forge.getPullRequest(opened.number);
        expect(merged).toMatchObject({ state: "merged", mergeSha: result.sha });
      });

      it("never merges twice: a second merge returns the first squash commit", async () => {
        const { head } = await onePullRequestWorld();
        const opened = await forge.openPullRequest(draft);
        const first = await forge.squashMerge(opened.number, mergeOptions(head));
        const second = await forge.squashMerge(opened.number, mergeOptions(head));
        expect(second.sha).toBe(first.sha);
        expect(await repository.branchSha("main")).toBe(first.sha);
        await expect(forge.squashMerge(opened.number, mergeOptions(first.sha))).rejects.toBeInstanceOf(HeadMovedError);
      });

      it("reports a conflicting pull request as not mergeable and merges nothing", async () => {
        await seed.commit("main", { "shared.txt": "base\n" }, "initial");
        const head = await seed.commit("issue-5", { "shared.txt": "from the issue\n" }, "issue edits", "main");
        const baseNow = await seed.commit("main", { "shared.txt": "from main\n" }, "main edits");
        const opened = await forge.openPullRequest(draft);

        const read = await forge.getPullRequest(opened.number);
        expect(read.mergeability).toBe("conflicting");
        if (forge.repo === null) expect(read.conflicts).toEqual(["shared.txt"]);

        await expect(forge.squashMerge(opened.number, mergeOptions(head))).rejects.toBeInstanceOf(ForgeConflictError);
        expect(await repository.branchSha("main")).toBe(baseNow);
        expect((await forge.getPullRequest(opened.number)).state).toBe("open");
      });

      it("refuses to merge when the head moved after it was checked, and merges nothing", async () => {
        const { base, head } = await onePullRequestWorld();
        const opened = await forge.openPullRequest(draft);
        expect((await forge.getPullRequest(opened.number)).headSha).toBe(head);
        const moved = await seed.commit("issue-5", { "src/c.txt": "c\n" }, "late push");

        const refusal = forge.squashMerge(opened.number, mergeOptions(head));
        await expect(refusal).rejects.toBeInstanceOf(HeadMovedError);
        expect(await repository.branchSha("main")).toBe(base);
        const read = await forge.getPullRequest(opened.number);
        expect(read).toMatchObject({ state: "open", headSha: moved });
      });

      it("retargets a pull request to another base", async () => {
        const { base } = await onePullRequestWorld();
        await forge.createBranch("feature/x", base);
        const opened = await forge.openPullRequest(draft);
        const retargeted = await forge.retargetPullRequest(opened.number, "feature/x");
        expect(retargeted.base).toBe("feature/x");
        expect((await forge.findPullRequest("issue-5"))?.base).toBe("feature/x");
        await expect(forge.retargetPullRequest(opened.number, "nowhere")).rejects.toBeInstanceOf(ForgeNotFoundError);
      });

      it("reports a commit with no checks as having none", async () => {
        const { head } = await onePullRequestWorld();
        expect((await forge.checksFor(head)).state).toBe("none");
      });
    });

    describe("branches", () => {
      it("creates a branch, and creating it again at the same sha is a no-op", async () => {
        const base = await seed.commit("main", { "README.md": "hello\n" }, "initial");
        await forge.createBranch("feature/login", base);
        expect(await forge.branchHead("feature/login")).toBe(base);
        await forge.createBranch("feature/login", base);
        expect(await forge.branchHead("nope")).toBeNull();
      });

      it("refuses to create a branch that exists at another sha", async () => {
        const base = await seed.commit("main", { "README.md": "hello\n" }, "initial");
        const other = await seed.commit("issue-5", { "x.txt": "x\n" }, "x", "main");
        await expect(forge.createBranch("issue-5", base)).rejects.toBeInstanceOf(ForgeConflictError);
        expect(await forge.branchHead("issue-5")).toBe(other);
      });

      it("moves a branch only from the expected sha", async () => {
        const base = await seed.commit("main", { "README.md": "hello\n" }, "initial");
        const ahead = await seed.commit("issue-5", { "x.txt": "x\n" }, "x", "main");
        await forge.createBranch("feature/x", base);

        await expect(forge.moveBranch("feature/x", ahead, { expectedSha: ahead, force: false })).rejects.toBeInstanceOf(HeadMovedError);
        expect(await forge.branchHead("feature/x")).toBe(base);

        await forge.moveBranch("feature/x", ahead, { expectedSha: base, force: false });
        expect(await forge.branchHead("feature/x")).toBe(ahead);
      });

      it("moves a branch backwards or sideways only with force", async () => {
        const base = await seed.commit("main", { "README.md": "hello\n" }, "initial");
        const ahead = await seed.commit("issue-5", { "x.txt": "x\n" }, "x", "main");
        await expect(forge.moveBranch("issue-5", base, { expectedSha: ahead, force: false })).rejects.toBeInstanceOf(ForgeConflictError);
        expect(await forge.branchHead("issue-5")).toBe(ahead);
        await forge.moveBranch("issue-5", base, { expectedSha: ahead, force: true });
        expect(await forge.branchHead("issue-5")).toBe(base);
      });

      it("deletes a branch only at the expected sha; a missing branch is not an error", async () => {
        const base = await seed.commit("main", { "README.md": "hello\n" }, "initial");
        const ahead = await seed.commit("issue-5", { "x.txt": "x\n" }, "x", "main");
        await expect(forge.deleteBranch("issue-5", { expectedSha: base })).rejects.toBeInstanceOf(HeadMovedError);
        expect(await forge.branchHead("issue-5")).toBe(ahead);
        await forge.deleteBranch("issue-5", { expectedSha: ahead });
        expect(await forge.branchHead("issue-5")).toBeNull();
        await forge.deleteBranch("issue-5", { expectedSha: null });
      });

      it("rejects hostile branch names before they reach git", async () => {
        const base = await seed.commit("main", { "README.md": "hello\n" }, "initial");
        for (const name of ["--upload-pack=touch pwned", "../x", "-x", "a..b", "HEAD"]) {
          await expect(forge.createBranch(name, base)).rejects.toBeInstanceOf(UserError);
          await expect(forge.branchHead(name)).rejects.toBeInstanceOf(UserError);
        }
      });
    });

    describe("issues", () => {
      beforeEach(async () => {
        await seed.issues([
          { number: 1, title: "Session store", labels: ["backend"], milestone: "v1", body: "Store sessions.\n" },
          { number: 2, title: "Login page", labels: ["frontend"], milestone: "v1", body: "blocked-by: #1\n" },
          { number: 3, title: "Old work", state: "closed", labels: ["backend"] },
        ]);
      });

      it("lists open issues by default, and by label, milestone, numbers and state", async () => {
        const numbers = async (query: Parameters<Forge["listIssues"]>[0]) => (await forge.listIssues(query)).issues.map((i) => i.number).sort();
        expect(await numbers({})).toEqual([1, 2]);
        expect(await numbers({ label: "backend" })).toEqual([1]);
        expect(await numbers({ label: "backend", state: "all" })).toEqual([1, 3]);
        expect(await numbers({ milestone: "v1" })).toEqual([1, 2]);
        expect(await numbers({ numbers: [2, 3], state: "all" })).toEqual([2, 3]);
        expect(await numbers({ state: "closed" })).toEqual([3]);
        await expect(forge.listIssues({ numbers: [99] })).rejects.toBeInstanceOf(ForgeNotFoundError);
      });

      it("reads one issue, and a missing one is not found", async () => {
        const issue = await forge.getIssue(2);
        expect(issue).toMatchObject({ number: 2, title: "Login page", state: "open", labels: ["frontend"], milestone: "v1" });
        expect(issue.body).toContain("blocked-by: #1");
        await expect(forge.getIssue(99)).rejects.toBeInstanceOf(ForgeNotFoundError);
      });

      it("closes an issue", async () => {
        await forge.closeIssue(1);
        expect((await forge.getIssue(1)).state).toBe("closed");
        expect((await forge.listIssues({})).issues.map((i) => i.number)).toEqual([2]);
        expect((await forge.listIssues({ state: "closed" })).issues.map((i) => i.number).sort()).toEqual([1, 3]);
      });

      it("comments on an issue", async () => {
        await forge.commentOnIssue(1, "Merged as abc123.");
        await forge.commentOnIssue(1, "Second note.");
        const comments = await seed.comments(1);
        expect(comments).toHaveLength(2);
        expect(comments[0]).toContain("Merged as abc123.");
        expect(comments[1]).toContain("Second note.");
        await expect(forge.commentOnIssue(99, "x")).rejects.toBeInstanceOf(ForgeNotFoundError);
      });

      it("lists a parent's sub-issues whatever their state, none for an issue without, and a missing parent is not found", async () => {
        await seed.issues([
          { number: 40, title: "Checkout epic" },
          { number: 41, title: "Cart total", parent: 40 },
          { number: 42, title: "Unrelated" },
          { number: 43, title: "Already done", state: "closed", parent: 40 },
          { number: 44, title: "Receipt", parent: 40, body: "blocked-by: #41\n" },
        ]);
        const listing = await forge.subIssues(40);
        expect([...listing.numbers].sort((a, b) => a - b)).toEqual([41, 43, 44]);
        expect(listing.notices).toEqual([]);
        expect((await forge.subIssues(42)).numbers).toEqual([]);
        await expect(forge.subIssues(99)).rejects.toBeInstanceOf(ForgeNotFoundError);
      });

      it("finds a comment again by listing, and edits it in place without adding one or touching the others", async () => {
        const first = await forge.commentOnIssue(1, "A person's note.");
        const progress = await forge.commentOnIssue(1, "<!-- cspace:progress run=r1 -->\n0 of 2 merged");
        await forge.commentOnIssue(1, "A later note.");
        expect(progress.id).not.toBe(first.id);
        const found = (await forge.listComments(1)).find((comment) => comment.body.startsWith("<!-- cspace:progress run=r1 -->"));
        expect(found).toEqual(progress);
        const edited = await forge.updateComment(1, progress.id, "<!-- cspace:progress run=r1 -->\n2 of 2 merged");
        expect(edited).toEqual({ id: progress.id, body: "<!-- cspace:progress run=r1 -->\n2 of 2 merged" });
        expect(await forge.listComments(1)).toEqual([
          { id: first.id, body: "A person's note." },
          { id: progress.id, body: "<!-- cspace:progress run=r1 -->\n2 of 2 merged" },
          expect.objectContaining({ body: "A later note." }),
        ]);
        expect(await seed.comments(1)).toEqual(["A person's note.", "<!-- cspace:progress run=r1 -->\n2 of 2 merged", "A later note."]);
        expect(await forge.listComments(2)).toEqual([]);
        await expect(forge.listComments(99)).rejects.toBeInstanceOf(ForgeNotFoundError);
      });

      it("refuses to edit a comment that does not exist", async () => {
        await forge.commentOnIssue(1, "Only one.");
        await expect(forge.updateComment(1, 987_654, "x")).rejects.toBeInstanceOf(ForgeNotFoundError);
        expect(await seed.comments(1)).toEqual(["Only one."]);
      });
    });

    // Registered only for forges that inject faults, so no test passes vacuously.
    if (options.injectsFaults === true) faultTests();
    function faultTests(): void {
      describe("injected faults", () => {
        const faultTest = (title: string, body: (faults: FaultInjector) => Promise<void>) => {
          it(title, async () => {
            if (world.faults === undefined) throw new Error(`${name}: injectsFaults is set but setup returned no faults`);
            await body(world.faults);
          });
        };

        faultTest("a server error on a merge ends in one merge or a typed error, never two merges", async (faults) => {
          const { base, head } = await onePullRequestWorld();
          const opened = await forge.openPullRequest(draft);
          faults.next("server-error");
          const first = await forge.squashMerge(opened.number, mergeOptions(head)).catch((error: unknown) => error);
          if (!("sha" in Object(first))) expect(first).toBeInstanceOf(CspaceError);
          const result = await forge.squashMerge(opened.number, mergeOptions(head));
          expect(await repository.parents(result.sha)).toEqual([base]);
          expect(await repository.branchSha("main")).toBe(result.sha);
        });

        faultTest("a secondary rate limit ends in a retry or a RateLimitedError with a retry time", async (faults) => {
          await onePullRequestWorld();
          faults.next("secondary-rate-limit");
          const outcome = await forge.openPullRequest(draft).catch((error: unknown) => error);
          if (outcome instanceof RateLimitedError) expect(outcome.retryAt.getTime()).toBeGreaterThan(Date.now() - 1000);
          else expect(outcome).toMatchObject({ head: "issue-5", state: "open" });
          await forge.openPullRequest(draft);
          const found = await forge.findPullRequest("issue-5");
          expect(found?.state).toBe("open");
        });

        faultTest("mergeability still being computed is waited for", async (faults) => {
          await onePullRequestWorld();
          const opened = await forge.openPullRequest(draft);
          faults.next("mergeable-null", { times: 2 });
          expect((await forge.getPullRequest(opened.number)).mergeability).toBe("mergeable");
        });

        faultTest("'Base branch was modified' is re-checked and retried once", async (faults) => {
          const { base, head } = await onePullRequestWorld();
          const opened = await forge.openPullRequest(draft);
          faults.next("base-modified");
          const result = await forge.squashMerge(opened.number, mergeOptions(head));
          expect(await repository.parents(result.sha)).toEqual([base]);
          expect(await repository.branchSha("main")).toBe(result.sha);
        });

        faultTest("a head moved between check and merge is a HeadMovedError and merges nothing", async (faults) => {
          const { base, head } = await onePullRequestWorld();
          const opened = await forge.openPullRequest(draft);
          faults.next("head-moved");
          await expect(forge.squashMerge(opened.number, mergeOptions(head))).rejects.toBeInstanceOf(HeadMovedError);
          expect(await repository.branchSha("main")).toBe(base);
        });
      });
    }
  });
}
