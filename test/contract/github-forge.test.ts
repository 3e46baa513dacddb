import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ForgeConflictError, ForgeNotFoundError, ForgeUnauthorizedError, ForgeUnavailableError, HeadMovedError, RateLimitedError } from "../../src/core/forge/errors.ts";
import { createGithubForge } from "../../src/adapters/forge/github/forge.ts";
import { UserError } from "../../src/core/errors.ts";
import { setAllowSquashMerge } from "../support/github-simulator/handlers-repo.ts";
import { fastThrottle, simulatedGithub, type SimulatedGithub } from "../support/github-simulator/harness.ts";
import { forgeContract } from "./forge-contract.ts";

forgeContract("github (simulator)", () => simulatedGithub(), { injectsFaults: true });

describe("GitHub forge on the simulator", () => {
  let gh: SimulatedGithub;
  beforeEach(async () => {
    gh = await simulatedGithub();
  });
  afterEach(async () => {
    await gh.teardown();
  });

  const calls = (operationId: string) => gh.simulator.requests.filter((r) => r.operationId === operationId);

  async function pullRequestWorld(): Promise<{ base: string; head: string; number: number }> {
    const base = await gh.seed.commit("main", { "README.md": "hello\n" }, "initial");
    const head = await gh.seed.commit("issue-5", { "b.txt": "b\n" }, "add b", "main");
    const { number } = await gh.forge.openPullRequest({ head: "issue-5", base: "main", title: "Add b", body: "" });
    return { base, head, number };
  }
  const merge = (head: string) => ({ expectedHeadSha: head, title: "Add b (#5)", message: "" });

  it("finds pull requests with head=owner:branch, never a bare branch", async () => {
    await pullRequestWorld();
    await gh.forge.findPullRequest("issue-5");
    const lists = calls("pulls/list");
    expect(lists.length).toBeGreaterThan(0);
    for (const request of lists) expect(request.query).toMatchObject({ head: "octo:issue-5", state: "all" });
  });

  it("sends branch names with slashes URL-encoded", async () => {
    const base = await gh.seed.commit("main", { "README.md": "hello\n" }, "initial");
    await gh.forge.createBranch("feature/login/v2", base);
    expect(await gh.forge.branchHead("feature/login/v2")).toBe(base);
    await gh.forge.deleteBranch("feature/login/v2", { expectedSha: base });
    expect(calls("git/get-ref").map((r) => r.path)).toContain("/repos/octo/widgets/git/ref/heads%2Ffeature%2Flogin%2Fv2");
    expect(calls("git/delete-ref").map((r) => r.path)).toEqual(["/repos/octo/widgets/git/refs/heads%2Ffeature%2Flogin%2Fv2"]);
  });

  it("polls while mergeable is null, and gives up as unknown after a bounded number of reads", async () => {
    const { number } = await pullRequestWorld();
    gh.simulator.faults.inject("mergeable-null", { times: 2 });
    gh.simulator.resetRecords();
    expect((await gh.forge.getPullRequest(number)).mergeability).toBe("mergeable");
    expect(calls("pulls/get")).toHaveLength(3);

    gh.simulator.faults.inject("mergeable-null", { times: 50 });
    gh.simulator.resetRecords();
    expect((await gh.forge.getPullRequest(number)).mergeability).toBe("unknown");
    expect(calls("pulls/get")).toHaveLength(5);
  });

  it("retries 'Base branch was modified' exactly once, then reports a conflict without merging", async () => {
    const { base, head, number } = await pullRequestWorld();
    gh.simulator.faults.inject("base-modified", { times: 2 });
    gh.simulator.resetRecords();
    await expect(gh.forge.squashMerge(number, merge(head))).rejects.toBeInstanceOf(ForgeConflictError);
    expect(calls("pulls/merge")).toHaveLength(2);
    expect(await gh.simulator.world.git.resolve("refs/heads/main")).toBe(base);
  });

  it("never retries a 409: a moved head is one request and a HeadMovedError naming both shas", async () => {
    const { head, number } = await pullRequestWorld();
    gh.simulator.faults.inject("head-moved");
    gh.simulator.resetRecords();
    const error = await gh.forge.squashMerge(number, merge(head)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HeadMovedError);
    expect(error).toMatchObject({ expectedSha: head });
    expect((error as HeadMovedError).actualSha).not.toBe(head);
    expect(calls("pulls/merge")).toHaveLength(1);
  });

  it("retries a server error on merge and merges once", async () => {
    const { head, number } = await pullRequestWorld();
    gh.simulator.faults.inject("server-error", { operationId: "pulls/merge" });
    const result = await gh.forge.squashMerge(number, merge(head));
    expect(calls("pulls/merge").map((r) => r.status)).toEqual([500, 200]);
    expect(await gh.simulator.world.git.resolve("refs/heads/main")).toBe(result.sha);
  });

  it("gives up on persistent server errors with ForgeUnavailableError", async () => {
    await gh.seed.commit("main", { "README.md": "hello\n" }, "initial");
    gh.simulator.faults.inject("server-error", { times: 10 });
    await expect(gh.forge.defaultBranch()).rejects.toBeInstanceOf(ForgeUnavailableError);
    expect(calls("repos/get")).toHaveLength(4);
    gh.simulator.faults.clear();
    expect(await gh.forge.defaultBranch()).toBe("main");
  });

  it.each([403, 429] as const)("retries a %i secondary rate limit, and reports a persistent one with its retry time", async (status) => {
    await pullRequestWorld();
    gh.simulator.faults.inject("secondary-rate-limit", { status });
    expect((await gh.forge.findPullRequest("issue-5"))?.head).toBe("issue-5");
    expect(calls("pulls/list").map((r) => r.status).slice(-2)).toEqual([status, 200]);

    gh.simulator.faults.inject("secondary-rate-limit", { times: 10, status });
    const error = await gh.forge.findPullRequest("issue-5").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    const retryAt = (error as RateLimitedError).retryAt.getTime();
    expect(retryAt).toBeGreaterThan(Date.now());
    expect(retryAt).toBeLessThan(Date.now() + 5_000);
  });

  it("waits out a primary rate limit until x-ratelimit-reset", async () => {
    await gh.seed.commit("main", { "README.md": "hello\n" }, "initial");
    gh.simulator.faults.inject("primary-rate-limit");
    expect(await gh.forge.branchHead("main")).not.toBeNull();
    expect(calls("git/get-ref").map((r) => r.status)).toEqual([403, 200]);
  });

  it("reports a refused token as ForgeUnauthorizedError and never puts the token in the message", async () => {
    const wrong = await simulatedGithub({ token: "ghp_wrongwrongwrong" });
    try {
      const error = await wrong.forge.getIssue(1).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ForgeUnauthorizedError);
      expect(String(error)).not.toContain("ghp_wrongwrongwrong");
      expect(JSON.stringify((error as Error).cause)).not.toContain("ghp_wrongwrongwrong");
    } finally {
      await wrong.teardown();
    }
  });

  it("closes issues as completed, skips pull requests when listing, and resolves milestones by title", async () => {
    await gh.seed.issues([{ number: 1, title: "One", milestone: "v1" }]);
    await gh.seed.commit("main", { "README.md": "hello\n" }, "initial");
    await gh.seed.commit("issue-1", { "x.txt": "x\n" }, "x", "main");
    const pr = await gh.forge.openPullRequest({ head: "issue-1", base: "main", title: "PR", body: "" });
    expect((await gh.forge.listIssues({})).issues.map((i) => i.number)).toEqual([1]);
    await expect(gh.forge.getIssue(pr.number)).rejects.toBeInstanceOf(ForgeNotFoundError);
    await expect(gh.forge.listIssues({ milestone: "v9" })).rejects.toThrow(/no milestone "v9".*/);
    await gh.forge.closeIssue(1);
    expect(gh.simulator.world.issues.get(1)).toMatchObject({ state: "closed", stateReason: "completed" });
    expect(calls("issues/update")[0]?.body).toEqual({ state: "closed", state_reason: "completed" });
  });

  it("summarises statuses and check runs; zero of both is none", async () => {
    const sha = await gh.seed.commit("main", { "README.md": "hello\n" }, "initial");
    expect(await gh.forge.checksFor(sha)).toEqual({ state: "none", details: [] });
    gh.simulator.world.statuses.set(sha, [{ context: "ci/lint", state: "success" }]);
    gh.simulator.world.checkRuns.set(sha, [{ name: "test", status: "in_progress", conclusion: null }]);
    expect(await gh.forge.checksFor(sha)).toEqual({ state: "pending", details: ["test"] });
    gh.simulator.world.checkRuns.set(sha, [{ name: "test", status: "completed", conclusion: "failure" }]);
    expect(await gh.forge.checksFor(sha)).toEqual({ state: "failure", details: ["test"] });
    gh.simulator.world.checkRuns.set(sha, [{ name: "test", status: "completed", conclusion: "success" }]);
    expect(await gh.forge.checksFor(sha)).toEqual({ state: "success", details: [] });
  });

  it("keeps a stacked pull request open when it is retargeted before its base branch is deleted", async () => {
    const { head, number } = await pullRequestWorld();
    await gh.seed.commit("issue-6", { "c.txt": "c\n" }, "add c", "issue-5");
    const stacked = await gh.forge.openPullRequest({ head: "issue-6", base: "issue-5", title: "Add c", body: "" });
    await gh.forge.squashMerge(number, merge(head));
    await gh.forge.retargetPullRequest(stacked.number, "main");
    await gh.forge.deleteBranch("issue-5", { expectedSha: head });
    expect((await gh.forge.getPullRequest(stacked.number)).state).toBe("open");
  });

  it("reports for doctor: signed in, and squash merges refused with where to allow them", async () => {
    setAllowSquashMerge(gh.simulator.world, false);
    const checks = await gh.forge.check();
    expect(checks).toMatchObject([
      { id: "forge", title: "Forge (GitHub octo/widgets)", status: "pass", detail: "signed in as cspace-bot (token from given); octo/widgets reachable (public) with push access" },
      { id: "squash-merge", status: "fail", detail: "octo/widgets does not allow squash merging; cspace merges every pull request as a squash" },
    ]);
  });

  it("looks the token up on first use: without one, check() says so and any call is a user error, with no request made", async () => {
    const lookups: string[] = [];
    const forge = createGithubForge({
      repo: "octo/widgets",
      apiUrl: gh.simulator.url,
      ...fastThrottle,
      token: () => {
        lookups.push("lookup");
        return Promise.resolve({ found: false, gh: "logged-out" });
      },
    });
    expect(lookups).toEqual([]);
    expect(await forge.check()).toMatchObject([
      { id: "forge", status: "fail", detail: "no GitHub token: GH_TOKEN and GITHUB_TOKEN are unset and gh is not logged in" },
      { id: "squash-merge", status: "skip", detail: "not checked: octo/widgets could not be read" },
    ]);
    const refusal = forge.listIssues({});
    await expect(refusal).rejects.toBeInstanceOf(UserError);
    await expect(refusal).rejects.toThrow(/no GitHub token to reach octo\/widgets/);
    expect(gh.simulator.requests).toEqual([]);
  });
});
