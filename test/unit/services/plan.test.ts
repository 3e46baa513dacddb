import { describe, expect, it } from "vitest";
import { encodeEvent } from "../../../src/core/coordinator/codec.ts";
import type { CoordinatorEvent } from "../../../src/core/coordinator/events.ts";
import { conflictKey, predictionSignature } from "../../../src/core/coordinator/predictions.ts";
import { replay } from "../../../src/core/coordinator/state.ts";
import type { RunSettings } from "../../../src/core/coordinator/vocabulary.ts";
import { ForgeUnavailableError } from "../../../src/core/forge/errors.ts";
import type { Issue } from "../../../src/core/issues/issue.ts";
import { planIssues, type PlanOptions } from "../../../src/services/plan.ts";
import { FakeEventStore } from "../../fakes/event-store.ts";
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

describe("planIssues while a coordinator run is under way on the feature branch", () => {
  const FEATURE = "main";
  const at = (second: number): string => new Date(Date.parse("2030-01-01T00:00:00.000Z") + second * 1000).toISOString();
  const failure = { kind: "verify", summary: "npm test exited 1", command: "npm test", output: "1 failed" } as const;

  /** #10 in review, #11's retry pending and held: a prediction round found they will conflict. */
  function runLog(): CoordinatorEvent[] {
    const settings: RunSettings = { featureBranch: FEATURE, maxParallel: 4, maxAttempts: 3, review: false, stacking: true, verify: { all: "npm test", e2e: null } };
    const numbers = [10, 11, 12];
    const report = (n: number): CoordinatorEvent => ({
      type: "Reported",
      at: at(20),
      issue: n,
      attempt: 1,
      report: {
        id: `r${String(n)}`, instance: `issue-${String(n)}`, outcome: "success", exitCode: 0, signal: null, branch: `issue-${String(n)}`, base: FEATURE,
        headSha: `h${String(n)}`, commitsAhead: 1, summary: "done", blockedReason: null, turns: 1, costUsd: null, sessionId: null, startedAt: at(10), endedAt: at(20),
      },
    });
    const work = (n: number): CoordinatorEvent[] => [
      { type: "Launched", at: at(10), issue: n, attempt: 1, why: "initial", prompt: { kind: "implementer" }, base: FEATURE, baseSha: "f0", headSha: null },
      report(n),
      { type: "Pushed", at: at(21), issue: n, headSha: `h${String(n)}`, forced: false },
    ];
    const before = [
      { type: "RunStarted", at: at(0), runId: "r1", selected: numbers, graph: { nodes: numbers.map((n) => ({ number: n, dependencies: n === 12 ? [10] : [], external: [] })), order: numbers }, settings },
      { type: "IssuesLoaded", at: at(0), issues: numbers.map((n) => ({ number: n, title: `Issue ${String(n)}`, state: "open", url: null })), external: [] },
      ...work(10),
      { type: "Verified", at: at(22), issue: 10, headSha: "h10" },
      { type: "PullRequestOpened", at: at(23), issue: 10, pr: 110, url: "https://forge.test/pr/110", base: FEATURE, headSha: "h10" },
      ...work(11),
      { type: "VerifyFailed", at: at(24), issue: 11, headSha: "h11", command: "npm test", exitCode: 1, outputTail: "1 failed" },
      { type: "Retried", at: at(25), issue: 11, attempt: 1, failure, prompt: { kind: "retry", attempt: 2, maxAttempts: 3, failure } },
    ] satisfies CoordinatorEvent[];
    const key = conflictKey(10, "h10", 11, "h11");
    const predicted: CoordinatorEvent = {
      type: "ConflictPredicted", at: at(30), key, earlier: 10, earlierBranch: "issue-10", earlierSha: "h10", later: 11, laterSha: "h11", paths: ["src/app.ts"], hunks: "", working: false,
    };
    const signature = predictionSignature(replay([...before, predicted]));
    return [...before, predicted, { type: "ConflictsChecked", at: at(30), signature, pairs: 1, ms: 3, current: [key], error: null }];
  }

  async function planDuring(events: readonly CoordinatorEvent[]) {
    const store = new FakeEventStore();
    const runId = await store.startRun({ selected: [10, 11, 12], featureBranch: FEATURE });
    await store.append(runId, events.map(encodeEvent));
    const forge = fake(issuesFrom({ 10: [], 11: [], 12: [10] }));
    return planIssues({ cwd: await tempDir(), env: {}, numbers: [], featureBranch: FEATURE, ports: { forge: () => forge, eventStore: () => store } });
  }

  it("shows what the run launched as running, stacks on it, and shows the issue it holds with the reason", async () => {
    const { plan: result } = await planDuring(runLog());
    expect(result.issues.map(({ number, action, base, waitingOn }) => [number, action, base, waitingOn])).toEqual([
      [10, "running", null, []],
      [11, "wait", null, [10]],
      [12, "launch", "issue-10", []],
    ]);
    expect(result.issues[1]?.held).toBe("held: will conflict with issue-10 in src/app.ts; starts once #10 merges");
  });

  it("ignores a run that has ended: the plan starts from nothing launched", async () => {
    const { plan: result } = await planDuring([...runLog(), { type: "RunFinished", at: at(40), exitCode: 1, abandoned: null }]);
    expect(result.issues.map(({ number, action }) => [number, action])).toEqual([[10, "launch"], [11, "launch"], [12, "wait"]]);
  });
});
