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
