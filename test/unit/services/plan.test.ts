import { describe, expect, it } from "vitest";
import { ForgeUnavailableError } from "../../../src/core/forge/errors.ts";
import type { Issue } from "../../../src/core/issues/issue.ts";
import { planIssues, type PlanOptions } from "../../../src/services/plan.ts";
import { FakeForge, type FakeForgeOptions } from "../../fakes/forge.ts";
import { issue, issuesFrom } from "../../fakes/issues.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";

const tempDir = useTempDirs("plan-service");

async function plan(forge: FakeForge, options: Partial<PlanOptions> = {}) {
  return planIssues({ cwd: await tempDir(), env: {}, numbers: [], ...options, ports: { forge: () => forge } });
}

function fake(issues: readonly Issue[], options: FakeForgeOptions = {}): FakeForge {
  return new FakeForge(options).addIssues(issues);
}

describe("planIssues on any forge", () => {
  it("passes the forge's notices on as warnings", async () => {
    const forge = fake(issuesFrom({ 1: [] }));
    forge.notices = ["ignored .cspace/issues/notes.md: issue files are named <number>.md"];
    expect((await plan(forge)).warnings).toEqual(["ignored .cspace/issues/notes.md: issue files are named <number>.md"]);
  });

  it("asks the forge for its default branch only when nothing else names the feature branch", async () => {
    const forge = fake(issuesFrom({ 1: [] }), { defaultBranch: "trunk" });
    expect((await plan(forge)).plan.featureBranch).toBe("trunk");
    expect(forge.callsOf("defaultBranch")).toHaveLength(1);
    const named = fake(issuesFrom({ 1: [] }), { defaultBranch: "trunk" });
    expect((await plan(named, { featureBranch: "feature/x" })).plan.featureBranch).toBe("feature/x");
    expect((await plan(named, { milestone: "Login v2" })).plan.featureBranch).toBe("feature/login-v2");
    expect(named.callsOf("defaultBranch")).toEqual([]);
  });

  it("reads a forge that lists everything at once in one call, and selects by label", async () => {
    const forge = fake([issue(1, { labels: ["ui"] }), issue(2, { deps: [1] }), issue(3, { labels: ["ui"], deps: [2] })]);
    const result = await plan(forge, { label: "ui", featureBranch: "main" });
    expect(result.plan.issues.map(({ number, action }) => [number, action])).toEqual([
      [1, "launch"],
      [3, "wait"],
    ]);
    expect(forge.calls.map((call) => call.method)).toEqual(["listIssues"]);
  });

  it("follows dependencies one read at a time on a forge that cannot list everything at once", async () => {
    const issues = [issue(5, { state: "closed", deps: [4] }), issue(10, { deps: [5] }), issue(12, { deps: [10] })];
    const forge = fake(issues, { listsEveryIssueAtOnce: false });
    const result = await plan(forge, { numbers: [12], featureBranch: "main" });
    expect(result.plan.issues).toMatchObject([{ number: 12, action: "wait", waitingOn: [10] }]);
    // The selection, every open issue, then only the closed dependency #5 (its own line is not followed).
    expect(forge.callsOf("listIssues")).toEqual([[{ numbers: [12], state: "all" }], [{ state: "open" }]]);
    expect(forge.callsOf("getIssue")).toEqual([[5]]);
  });

  it("reads unknown dependencies at most eight at a time", async () => {
    let inFlight = 0;
    let most = 0;
    class Counting extends FakeForge {
      override async getIssue(number: number): Promise<Issue> {
        inFlight++;
        most = Math.max(most, inFlight);
        try {
          await new Promise((resolve) => setImmediate(resolve));
          return await super.getIssue(number);
        } finally {
          inFlight--;
        }
      }
    }
    const closed = Array.from({ length: 30 }, (_, i) => issue(i + 1, { state: "closed" }));
    const forge = new Counting({ listsEveryIssueAtOnce: false }).addIssues([...closed, issue(100, { deps: closed.map((c) => c.number) })]);
    const result = await plan(forge, { featureBranch: "main" });
    expect(result.plan.issues).toMatchObject([{ number: 100, action: "launch", base: "main" }]);
    expect(forge.callsOf("getIssue")).toHaveLength(30);
    expect(most).toBe(8);
  });

  it("fails with the forge's own typed error", async () => {
    const forge = fake(issuesFrom({ 1: [] })).failNext("listIssues", new ForgeUnavailableError("the forge is down"));
    await expect(plan(forge)).rejects.toBeInstanceOf(ForgeUnavailableError);
  });
});
