import { describe, expect, it } from "vitest";
import type { WorkerReport } from "../../../src/core/agents/worker-status.ts";
import type { PredictConflicts, TellWorker } from "../../../src/core/coordinator/actions.ts";
import type { CoordinatorEvent } from "../../../src/core/coordinator/events.ts";
import { replay, type CoordinatorState } from "../../../src/core/coordinator/state.ts";
import { ExternalError } from "../../../src/core/errors.ts";
import type { Forge } from "../../../src/core/forge/port.ts";
import type { ExecutionContext } from "../../../src/services/coordinate/execute.ts";
import { predictionRound, tellWorker } from "../../../src/services/coordinate/predict.ts";
import { FakeBranchMover } from "../../fakes/branch-mover.ts";
import { FakeWorkerPool } from "../../fakes/worker-pool.ts";

/**
 * A prediction round as the runtime executes it (services/coordinate/predict.ts),
 * against the fake branch mover's whole-file commits: which pairs it asks
 * about, what it records, that a working agent's commits are read from its
 * checkout, and that a pair of commits is asked about once.
 */

const FEATURE = "feature/login";
const AT = "2030-01-01T00:00:00.000Z";

function world(): { mover: FakeBranchMover; f0: string; h10: string; h12: string; w11: string } {
  const mover = new FakeBranchMover();
  const f0 = mover.remoteCommit(FEATURE, { "src/app.ts": "hi\n", "README.md": "readme\n" }, "initial");
  const h10 = mover.remoteCommit("issue-10", { "src/app.ts": "hello\n" }, "#10", f0);
  const h12 = mover.remoteCommit("issue-12", { "README.md": "more\n" }, "#12", f0);
  mover.remoteCommit("issue-11", {}, "branch made at the base", f0);
  const w11 = mover.workerCommit("issue-11", "issue-11", { "src/app.ts": "bonjour\n" }, "#11 in progress", f0);
  return { mover, f0, h10, h12, w11 };
}

function stateOf(shas: { h10: string; h12: string; f0: string }): CoordinatorState {
  const numbers = [10, 11, 12];
  const report = (n: number, head: string): WorkerReport => ({
    id: `r${String(n)}`, instance: `issue-${String(n)}`, outcome: "success", exitCode: 0, signal: null, branch: `issue-${String(n)}`, base: FEATURE, headSha: head,
    commitsAhead: 1, summary: "done", blockedReason: null, turns: 1, costUsd: null, sessionId: null, startedAt: AT, endedAt: AT,
  });
  const events: CoordinatorEvent[] = [
    {
      type: "RunStarted", at: AT, runId: "r1", selected: numbers, graph: { nodes: numbers.map((number) => ({ number, dependencies: [], external: [] })), order: numbers },
      settings: { featureBranch: FEATURE, maxParallel: 3, maxAttempts: 2, review: false, stacking: true, verify: { all: null, e2e: null } },
    },
    { type: "IssuesLoaded", at: AT, issues: numbers.map((number) => ({ number, title: `Issue ${String(number)}`, state: "open", url: null })), external: [] },
    ...numbers.flatMap((issue): CoordinatorEvent[] => [
      { type: "Warmed", at: AT, issue, instance: `issue-${String(issue)}` },
      { type: "Launched", at: AT, issue, attempt: 1, why: "initial", prompt: { kind: "implementer" }, base: FEATURE, baseSha: shas.f0, headSha: shas.f0 },
    ]),
    { type: "Reported", at: AT, issue: 10, attempt: 1, report: report(10, shas.h10) },
    { type: "Pushed", at: AT, issue: 10, headSha: shas.h10, forced: false },
    { type: "Reported", at: AT, issue: 12, attempt: 1, report: report(12, shas.h12) },
    { type: "Pushed", at: AT, issue: 12, headSha: shas.h12, forced: false },
  ];
  return replay(events);
}

function contextFor(mover: FakeBranchMover, state: CoordinatorState, recorded: CoordinatorEvent[], workers = new FakeWorkerPool({ commit: () => Promise.resolve("") })): ExecutionContext {
  return {
    forge: {} as Forge,
    branches: mover,
    workers,
    state: () => state,
    record: (events) => {
      recorded.push(...events);
      return Promise.resolve();
    },
    renderPrompt: () => Promise.resolve(""),
    now: () => AT,
    notice: () => undefined,
  };
}

describe("a prediction round", () => {
  it("finds the working agent's conflict with the branch merging before it, reading its checkout, and records it with the hunks", async () => {
    const { mover, f0, h10, h12, w11 } = world();
    const state = stateOf({ h10, h12, f0 });
    const recorded: CoordinatorEvent[] = [];
    const action: PredictConflicts = { type: "PredictConflicts", issue: 10, signature: "sig-1" };
    await predictionRound(contextFor(mover, state, recorded), action);

    expect(mover.calls.filter((call) => call.method === "readWork").map((call) => call.args)).toEqual([["issue-11", "issue-11"]]);
    const predicted = recorded.filter((event) => event.type === "ConflictPredicted");
    expect(predicted).toHaveLength(1);
    expect(predicted[0]).toMatchObject({ earlier: 10, earlierBranch: "issue-10", earlierSha: h10, later: 11, laterSha: w11, paths: ["src/app.ts"], working: true });
    const hunks = predicted[0]?.type === "ConflictPredicted" ? predicted[0].hunks : "";
    expect(hunks).toContain("--- src/app.ts");
    expect(hunks).toContain("hello");
    expect(hunks).toContain("bonjour");
    const checked = recorded.at(-1);
    // Pairs: each of the three with the feature branch, 11 with 10, 12 with 10 and 11.
    expect(checked).toMatchObject({ type: "ConflictsChecked", signature: "sig-1", pairs: 6, error: null, current: [predicted[0]?.type === "ConflictPredicted" ? predicted[0].key : ""] });
  });

  it("asks about a pair of commits once for the coordinator's life, only when their changes meet, and does not record a known prediction again", async () => {
    const { mover, f0, h10, h12 } = world();
    const first: CoordinatorEvent[] = [];
    const state = stateOf({ h10, h12, f0 });
    await predictionRound(contextFor(mover, state, first), { type: "PredictConflicts", issue: 10, signature: "a" });
    // Each branch with the feature branch, and #11 with #10; #12 changes other paths than #10 and #11: no merge-tree for its pairs.
    const asked = mover.calls.filter((call) => call.method === "predictConflicts").length;
    expect(asked).toBe(4);
    const second: CoordinatorEvent[] = [];
    await predictionRound(contextFor(mover, replay(first, state), second), { type: "PredictConflicts", issue: 10, signature: "b" });
    expect(mover.calls.filter((call) => call.method === "predictConflicts").length).toBe(asked);
    expect(second.map((event) => event.type)).toEqual(["ConflictsChecked"]);
    expect(second[0]).toMatchObject({ current: first.flatMap((e) => (e.type === "ConflictPredicted" ? [e.key] : [])) });
  });

  it("records why a round could not be made, and keeps the predictions that held, instead of failing any issue", async () => {
    const { mover, f0, h10, h12 } = world();
    const state = stateOf({ h10, h12, f0 });
    mover.failNext("fetch", new ExternalError("remote hung up"));
    const recorded: CoordinatorEvent[] = [];
    await predictionRound(contextFor(mover, state, recorded), { type: "PredictConflicts", issue: 10, signature: "s" });
    expect(recorded).toMatchObject([{ type: "ConflictsChecked", signature: "s", pairs: 0, current: [], error: "remote hung up" }]);
  });
});

describe("telling a working agent", () => {
  it("sends the message through the pool and records it; a supervisor that does not take it is recorded as not told", async () => {
    const { mover, f0, h10, h12 } = world();
    const state = stateOf({ h10, h12, f0 });
    const pool = new FakeWorkerPool({ commit: () => Promise.resolve("") });
    const recorded: CoordinatorEvent[] = [];
    const action: TellWorker = { type: "TellWorker", issue: 11, instance: "issue-11", key: "k", text: "issue-10 will conflict" };
    await tellWorker(contextFor(mover, state, recorded, pool), action);
    expect(pool.told).toEqual([{ instance: "issue-11", text: "issue-10 will conflict" }]);
    pool.refuseTell.add("issue-11");
    await tellWorker(contextFor(mover, state, recorded, pool), action);
    expect(recorded).toMatchObject([
      { type: "ConflictWarned", issue: 11, key: "k", delivered: true, error: null },
      { type: "ConflictWarned", issue: 11, key: "k", delivered: false, error: 'no supervisor is running for instance "issue-11"' },
    ]);
  });
});

/**
 * Stacked branches: #12 is stacked on #10 (it depends on it and was made at #10's head), #11 is
 * independent. #10 and #11 both change a.txt; #12's own commits change b.txt, which #11 changes
 * too. #12's head carries #10's a.txt, so a plain merge-tree of #11 and #12 stops on both paths:
 * a.txt is #10's conflict (its own pair says so), b.txt is #12's.
 */
function stackedWorld(order: readonly number[]): { mover: FakeBranchMover; state: CoordinatorState; h10: string; h11: string; h12: string } {
  const mover = new FakeBranchMover();
  const f0 = mover.remoteCommit(FEATURE, { "a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n" }, "initial");
  const h10 = mover.remoteCommit("issue-10", { "a.txt": "a by 10\n" }, "#10", f0);
  const h11 = mover.remoteCommit("issue-11", { "a.txt": "a by 11\n", "b.txt": "b by 11\n" }, "#11", f0);
  const h12 = mover.remoteCommit("issue-12", { "b.txt": "b by 12\n" }, "#12 on #10", h10);
  const h13 = mover.remoteCommit("issue-13", { "c.txt": "c by 13\n" }, "#13 on #10", h10);
  const numbers = [10, 11, 12, 13];
  const dependencies: Record<number, number[]> = { 10: [], 11: [], 12: [10], 13: [10] };
  const heads: Record<number, string> = { 10: h10, 11: h11, 12: h12, 13: h13 };
  const report = (n: number): WorkerReport => ({
    id: `r${String(n)}`, instance: `issue-${String(n)}`, outcome: "success", exitCode: 0, signal: null, branch: `issue-${String(n)}`, base: FEATURE, headSha: heads[n] ?? "",
    commitsAhead: 1, summary: "done", blockedReason: null, turns: 1, costUsd: null, sessionId: null, startedAt: AT, endedAt: AT,
  });
  const events: CoordinatorEvent[] = [
    {
      type: "RunStarted", at: AT, runId: "r1", selected: numbers, graph: { nodes: numbers.map((number) => ({ number, dependencies: dependencies[number] ?? [], external: [] })), order: [...order] },
      settings: { featureBranch: FEATURE, maxParallel: 4, maxAttempts: 2, review: false, stacking: true, verify: { all: null, e2e: null } },
    },
    { type: "IssuesLoaded", at: AT, issues: numbers.map((number) => ({ number, title: `Issue ${String(number)}`, state: "open", url: null })), external: [] },
    ...numbers.flatMap((issue): CoordinatorEvent[] => {
      const stacked = (dependencies[issue] ?? []).length > 0;
      return [
        { type: "Warmed", at: AT, issue, instance: `issue-${String(issue)}` },
        { type: "Launched", at: AT, issue, attempt: 1, why: "initial", prompt: { kind: "implementer" }, base: stacked ? "issue-10" : FEATURE, baseSha: stacked ? h10 : f0, headSha: stacked ? h10 : f0 },
        { type: "Reported", at: AT, issue, attempt: 1, report: report(issue) },
        { type: "Pushed", at: AT, issue, headSha: heads[issue] ?? "", forced: false },
      ];
    }),
  ];
  return { mover, state: replay(events), h10, h11, h12 };
}

describe("a prediction round with stacked branches", () => {
  it("predicts a stacked branch against an independent one that merges before it, naming only the paths its own commits change", async () => {
    const { mover, state, h11, h12 } = stackedWorld([10, 11, 12, 13]);
    expect(state.issues[12]?.stackedOn).toBe(10);
    const recorded: CoordinatorEvent[] = [];
    await predictionRound(contextFor(mover, state, recorded), { type: "PredictConflicts", issue: 10, signature: "s" });
    const predicted = recorded.flatMap((event) => (event.type === "ConflictPredicted" ? [event] : []));
    // #11 with #10 on a.txt; #12 with #11 on b.txt alone (a.txt is #10's, already told); #13's own change meets nobody's.
    expect(predicted.map((p) => [p.earlier, p.later, p.paths])).toEqual([
      [10, 11, ["a.txt"]],
      [11, 12, ["b.txt"]],
    ]);
    const [, stacked] = predicted;
    expect(stacked).toMatchObject({ earlierBranch: "issue-11", earlierSha: h11, laterSha: h12 });
    // The hunks it is shown are its own path's, not its parent's.
    expect(stacked?.hunks).toContain("--- b.txt");
    expect(stacked?.hunks).toContain("b by 12");
    expect(stacked?.hunks).not.toContain("a.txt");
    // A branch is never compared with the branch it is stacked on, nor #12 with its sibling #13 (no path of theirs meets).
    const asked = mover.calls.filter((call) => call.method === "predictConflicts").map((call) => call.args[0] as { branch: string; onto: string });
    expect(asked).not.toContainEqual(expect.objectContaining({ branch: h12, onto: state.issues[10]?.pushedSha }));
    // Pairs: each of the four with the feature branch; 11 with 10; 12 with 11; 13 with 11 and 12.
    expect(recorded.at(-1)).toMatchObject({ type: "ConflictsChecked", pairs: 8, error: null });
  });

  it("tells the independent branch that merges after a stacked one only of the stacked branch's own paths, so its parent's conflict is told once", async () => {
    const { mover, state, h12 } = stackedWorld([10, 12, 13, 11]);
    const recorded: CoordinatorEvent[] = [];
    await predictionRound(contextFor(mover, state, recorded), { type: "PredictConflicts", issue: 10, signature: "s" });
    const predicted = recorded.flatMap((event) => (event.type === "ConflictPredicted" ? [event] : []));
    expect(predicted.map((p) => [p.earlier, p.later, p.paths])).toEqual([
      [10, 11, ["a.txt"]],
      [12, 11, ["b.txt"]],
    ]);
    expect(predicted[1]).toMatchObject({ earlierSha: h12 });
    expect(predicted[1]?.hunks).not.toContain("a.txt");
  });
});
