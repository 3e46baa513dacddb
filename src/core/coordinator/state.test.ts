import { describe, expect, it } from "vitest";
import type { CoordinatorEvent } from "./events.ts";
import { sampleReport } from "../../../test/support/worker-report.ts";
import { runReport } from "./report.ts";
import { simulate } from "./simulate.ts";
import { apply, initialState, replay, type CoordinatorState, type IssueStatusKind } from "./state.ts";

const AT = "2030-01-01T00:00:00.000Z";
const FEATURE = "feature/x";

const start: CoordinatorEvent[] = [
  {
    type: "RunStarted",
    at: AT,
    runId: "r1",
    selected: [11, 12, 13],
    graph: {
      nodes: [
        { number: 11, dependencies: [], external: [] },
        { number: 12, dependencies: [], external: [] },
        { number: 13, dependencies: [11, 12], external: ["acme/api#4"] },
      ],
      order: [11, 12, 13],
    },
    settings: { featureBranch: FEATURE, maxParallel: 2, maxAttempts: 2, review: false, stacking: true, verify: { all: null, e2e: null } },
  },
  {
    type: "IssuesLoaded",
    at: AT,
    issues: [11, 12, 13].map((n) => ({ number: n, title: `Issue ${n}`, state: "open" as const, url: `https://forge.test/issues/${n}` })),
    external: [{ ref: "acme/api#4", state: "closed" }],
  },
  ...[11, 12, 13].map((n): CoordinatorEvent => ({ type: "Warmed", at: AT, issue: n, instance: `issue-${n}` })),
];

const launched = (n: number, attempt = 1): CoordinatorEvent => ({
  type: "Launched",
  at: "2030-01-01T00:01:00.000Z",
  issue: n,
  attempt,
  why: attempt === 1 ? "initial" : "retry",
  prompt: { kind: "implementer" },
  base: FEATURE,
  baseSha: "f0",
  headSha: "f0",
});

describe("the state, a fold over events", () => {
  it("starts with the selected issues, their edges and dependents, and the run's settings", () => {
    const state = replay(start);
    expect(state.run).toMatchObject({ runId: "r1", selected: [11, 12, 13], order: [11, 12, 13], settings: { featureBranch: FEATURE } });
    expect(state.issues[11]).toMatchObject({ branch: "issue-11", dependents: [13], title: "Issue 11", url: "https://forge.test/issues/11" });
    expect(state.outside).toEqual({ "acme/api#4": "closed" });
    expect(state.issues[13]?.status).toEqual({ kind: "waiting", reason: "waiting on #11, #12: 2 dependencies not merged yet; it starts once at most one is left unmerged", waitingOn: [11, 12], until: null });
    expect(state.issues[11]?.status).toMatchObject({ kind: "ready", waitingOn: ["slot"] });
  });

  it("gives every status kind with a reason along runs that meet retries, reviews, rebases, limits and failures", () => {
    const seen = new Set<IssueStatusKind>();
    const collect = (_event: CoordinatorEvent, _before: CoordinatorState, after: CoordinatorState): void => {
      for (const issue of Object.values(after.issues)) {
        expect(issue.status.reason).not.toBe("");
        // Words, not the base-branch rule's row names (`cspace status` printed "(severalUnmerged)").
        expect(issue.status.reason).not.toMatch(/noDependencies|allMerged|oneUnmerged|severalUnmerged/);
        seen.add(issue.status.kind);
      }
    };
    simulate({
      issues: { 10: [], 11: [], 12: [10], 13: [11, 12] },
      settings: { review: true, maxParallel: 1 },
      scripts: { 10: { attempts: ["rate-limited"], checks: ["pending"] }, 12: { restack: ["conflict"] } },
      onEvent: collect,
    });
    simulate({ issues: { 10: [], 11: [10] }, settings: { maxAttempts: 1 }, scripts: { 10: { attempts: ["failure"] } }, onEvent: collect });
    expect([...seen].sort()).toEqual(
      ["blocked", "failed", "merged", "merging", "pr-open", "rate-limited", "ready", "rebasing", "reviewing", "verifying", "waiting", "warming", "working"].sort(),
    );
  });

  it("ignores what no longer fits: a second RunStarted, a repeated or out-of-order launch, a late report, unknown issues", () => {
    const state = replay([...start, launched(11)]);
    const same = (event: CoordinatorEvent): void => {
      expect(apply(state, event)).toBe(state);
    };
    same({ ...start[0], runId: "other" } as CoordinatorEvent);
    same(launched(11));
    same(launched(12, 2));
    same(launched(99));
    same({ type: "Warmed", at: AT, issue: 99, instance: "issue-99" });
    const lost = apply(state, { type: "WorkerLost", at: AT, issue: 11, attempt: 1, reason: "container exited" });
    const late: CoordinatorEvent = {
      type: "Reported",
      at: AT,
      issue: 11,
      attempt: 1,
      report: {
        id: "late",
        instance: "issue-11",
        outcome: "success",
        exitCode: 0,
        signal: null,
        branch: "issue-11",
        base: FEATURE,
        headSha: "abc",
        commitsAhead: 1,
        summary: "",
        blockedReason: null,
        turns: 1,
        costUsd: null,
        sessionId: null,
        startedAt: AT,
        endedAt: AT,
      },
    };
    expect(apply(lost, late)).toBe(lost);
    expect(lost.issues[11]?.attempts[0]).toMatchObject({ end: "lost", failure: { kind: "lost", summary: "container exited" } });
    expect(lost.issues[11]?.warm).toBe("pending");
    // Nothing before the run starts.
    expect(apply(initialState(), launched(11))).toEqual(initialState());
  });

  it("keeps an attempt open across `cspace restart` and counts both runs' turns and cost once: a restart is not a new attempt", () => {
    const report = (id: string, outcome: "interrupted" | "success", turns: number, costUsd: number, restarted = false): CoordinatorEvent => ({
      type: "Reported",
      at: AT,
      issue: 11,
      attempt: 1,
      report: { ...sampleReport(id), instance: "issue-11", branch: "issue-11", outcome, exitCode: outcome === "success" ? 0 : null, turns, costUsd, ...(restarted ? { restarted: true } : {}) },
    });
    const restarted = replay([...start, launched(11), report("before-restart", "interrupted", 2, 0.05, true)]);
    expect(restarted.issues[11]?.attempts).toMatchObject([{ number: 1, end: null, turns: 2, costUsd: 0.05 }]);
    // Nothing waits to be launched: the restarted agent is this attempt, and a repeated report changes nothing.
    expect(restarted.issues[11]?.pending).toBeNull();
    expect(apply(restarted, report("before-restart", "interrupted", 2, 0.05, true))).toBe(restarted);
    const done = apply(restarted, report("after-restart", "success", 1, 0.019));
    expect(done.issues[11]?.attempts).toMatchObject([{ number: 1, end: "succeeded", turns: 3, costUsd: 0.069 }]);
    // An interrupt (no restart) still ends the attempt, and the prompt is launched again as the next one.
    const interrupted = replay([...start, launched(11), report("interrupted", "interrupted", 1, 0.01)]);
    expect(interrupted.issues[11]?.attempts).toMatchObject([{ number: 1, end: "interrupted" }]);
    expect(interrupted.issues[11]?.pending).toEqual({ kind: "implementer" });
  });

  it("counts an issue closed before the run as merged, and keeps titles fresh on a resume", () => {
    const closed = replay([
      ...start,
      { type: "IssuesLoaded", at: AT, issues: [{ number: 11, title: "Renamed", state: "closed", url: null }], external: [] },
    ]);
    expect(closed.issues[11]).toMatchObject({ title: "Renamed", mergedBeforeRun: true, status: { kind: "merged", reason: "closed before the run" } });
    expect(closed.issues[13]?.status).toMatchObject({ kind: "waiting", waitingOn: [12] });
  });

  it("records operator commands: pause and resume (run or issue), skip as blocked by the operator, ending a running attempt", () => {
    const paused = replay([...start, { type: "Paused", at: AT, issue: null }]);
    expect(paused.paused).toBe(true);
    expect(paused.issues[11]?.status.reason).toContain("paused");
    expect(replay([...start, { type: "Paused", at: AT, issue: 12 }, { type: "Resumed", at: AT, issue: 12 }]).issues[12]?.paused).toBe(false);
    const skipped = replay([...start, launched(11), { type: "Skipped", at: AT, issue: 11, reason: "done by hand" }]);
    expect(skipped.issues[11]).toMatchObject({ status: { kind: "blocked", reason: "done by hand" }, outcome: { by: { kind: "operator" } } });
    expect(skipped.issues[11]?.attempts[0]?.end).toBe("interrupted");
  });

  it("keeps what a skipped attempt spent: the interrupted agent's late report counts its turns and cost, and decides nothing", () => {
    const skip: CoordinatorEvent = { type: "Skipped", at: AT, issue: 11, reason: "done by hand" };
    const late: CoordinatorEvent = {
      type: "Reported",
      at: AT,
      issue: 11,
      attempt: 1,
      report: { ...sampleReport("late-11"), instance: "issue-11", branch: "issue-11", outcome: "interrupted", exitCode: null, signal: "SIGTERM", turns: 7, costUsd: 0.75, headSha: "h11" },
    };
    const after = replay([...start, launched(11), skip, late]);
    expect(after.issues[11]?.attempts[0]).toMatchObject({ end: "interrupted", turns: 7, costUsd: 0.75, reportId: "late-11" });
    expect(after.issues[11]).toMatchObject({ status: { kind: "blocked", reason: "done by hand" }, headSha: null, pending: null });
    expect(runReport(after).rows.find((row) => row.issue === 11)).toMatchObject({ turns: 7, costUsd: 0.75 });
    // Counted once: the same report again changes nothing.
    expect(replay([late], after)).toEqual(after);
  });

  it("is plain JSON: a state survives a JSON round trip unchanged", () => {
    const { state } = simulate({ issues: { 10: [], 12: [10] }, scripts: { 10: { attempts: ["failure"] } } });
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });
});
