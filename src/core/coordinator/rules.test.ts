import { describe, expect, it } from "vitest";
import type { ReportOutcome, WorkerReport } from "../agents/worker-status.ts";
import type { Action, ActionType } from "./actions.ts";
import { decide, explain } from "./decide.ts";
import type { CoordinatorEvent } from "./events.ts";
import { coordinatorRules, PULL_REQUEST_POLL_MS, type RuleName } from "./rules.ts";
import { replay, type CoordinatorState } from "./state.ts";
import type { LaunchPrompt, RunSettings } from "./vocabulary.ts";

const FEATURE = "feature/login";
const T0 = Date.parse("2030-01-01T00:00:00.000Z");
const at = (second = 0): string => new Date(T0 + second * 1000).toISOString();

function started(
  deps: Readonly<Record<number, readonly number[]>>,
  options: { settings?: Partial<RunSettings>; selected?: number[]; closed?: number[]; external?: Record<number, string[]> } = {},
): CoordinatorEvent[] {
  const numbers = Object.keys(deps).map(Number);
  const settings: RunSettings = {
    featureBranch: FEATURE,
    maxParallel: 4,
    maxAttempts: 2,
    review: false,
    stacking: true,
    verify: { all: "npm test", e2e: null },
    ...options.settings,
  };
  const nodes = numbers.map((n) => ({ number: n, dependencies: deps[n] ?? [], external: options.external?.[n] ?? [] }));
  return [
    { type: "RunStarted", at: at(), runId: "r1", selected: options.selected ?? numbers, graph: { nodes, order: numbers }, settings },
    {
      type: "IssuesLoaded",
      at: at(),
      issues: numbers.map((n) => ({ number: n, title: `Issue ${n}`, state: options.closed?.includes(n) === true ? "closed" : "open", url: null })),
      external: [],
    },
  ];
}

const warmed = (...issues: number[]): CoordinatorEvent[] => issues.map((n) => ({ type: "Warmed", at: at(), issue: n, instance: `issue-${n}` }));

function launched(n: number, attempt = 1, base = FEATURE, prompt: LaunchPrompt = { kind: "implementer" }, headSha: string | null = null): CoordinatorEvent {
  const why = prompt.kind === "implementer" ? "initial" : prompt.kind;
  return { type: "Launched", at: at(10), issue: n, attempt, why, prompt, base, baseSha: attempt === 1 ? `${base}@0` : null, headSha };
}

function reported(n: number, attempt: number, outcome: ReportOutcome = "success", fields: Partial<WorkerReport> = {}): CoordinatorEvent {
  const report: WorkerReport = {
    id: `r${n}-${attempt}`,
    instance: `issue-${n}`,
    outcome,
    exitCode: outcome === "success" ? 0 : 1,
    signal: null,
    branch: `issue-${n}`,
    base: FEATURE,
    headSha: `h${n}-${attempt}`,
    commitsAhead: 1,
    summary: "done",
    blockedReason: outcome === "blocked" ? "needs credentials" : null,
    turns: 4,
    costUsd: 0.5,
    sessionId: null,
    startedAt: at(10),
    endedAt: at(20),
    ...fields,
  };
  return { type: "Reported", at: at(20), issue: n, attempt, report };
}

const pushed = (n: number, headSha: string, forced = false): CoordinatorEvent => ({ type: "Pushed", at: at(21), issue: n, headSha, forced });
const verified = (n: number, headSha: string): CoordinatorEvent => ({ type: "Verified", at: at(22), issue: n, headSha });
const opened = (n: number, base = FEATURE, headSha = ""): CoordinatorEvent => ({
  type: "PullRequestOpened",
  at: at(23),
  issue: n,
  pr: 100 + n,
  url: `https://forge.test/pr/${100 + n}`,
  base,
  headSha,
});

function checked(n: number, headSha: string, fields: Partial<Extract<CoordinatorEvent, { type: "PullRequestChecked" }>> = {}): CoordinatorEvent {
  return { type: "PullRequestChecked", at: at(24), issue: n, pr: 100 + n, headSha, epoch: 0, mergeability: "mergeable", checks: "success", details: [], conflicts: [], ...fields };
}

/** Launched, reported, pushed, verified and with a pull request on `base`. */
function finished(n: number, base = FEATURE): CoordinatorEvent[] {
  const head = `h${n}-1`;
  return [launched(n, 1, base), reported(n, 1), pushed(n, head), verified(n, head), opened(n, base, head)];
}

function merged(n: number, epochHead = `h${n}-1`): CoordinatorEvent[] {
  return [
    { type: "MergeReady", at: at(30), issue: n, pr: 100 + n, headSha: epochHead, stacked: [] },
    { type: "Merged", at: at(30), issue: n, pr: 100 + n, headSha: epochHead, squashSha: `s${n}` },
  ];
}

type Events = CoordinatorEvent | readonly Events[];

function state(...events: readonly Events[]): CoordinatorState {
  const flat = (items: readonly Events[]): CoordinatorEvent[] => items.flatMap((item) => (isEvent(item) ? [item] : flat(item)));
  return replay(flat(events));
}

function isEvent(item: Events): item is CoordinatorEvent {
  return !Array.isArray(item);
}

/** The actions one row of the table asks for. */
function fired(s: CoordinatorState, rule: RuleName, options: { now?: number; inFlight?: Action[] } = {}): Action[] {
  return explain(s, options.now ?? T0 + 60_000, options.inFlight ?? [])
    .filter((decision) => decision.rule === rule)
    .map((decision) => decision.action);
}

const types = (actions: readonly Action[]): ActionType[] => actions.map((action) => action.type);

describe("the coordinator's rule table, one row at a time", () => {
  it("has its rows in this order", () => {
    expect(coordinatorRules.map((rule) => rule.name)).toEqual([
      "failUnwarmable",
      "failUnstartable",
      "failRefusedMerge",
      "failOverBudget",
      "stopOverBudget",
      "failOnUsageLimit",
      "failAfterMaxAttempts",
      "retryFailure",
      "blockByWorker",
      "blockOnDependency",
      "blockOnOutsideDependency",
      "failOnLandingMismatch",
      "blockOnRedBase",
      "warm",
      "verifyBase",
      "launch",
      "moveToFreeHost",
      "push",
      "restack",
      "rebaseAfterRestackConflict",
      "verify",
      "openPullRequest",
      "retarget",
      "requestReview",
      "concludeReview",
      "checkPullRequest",
      "rebaseConflictingPullRequest",
      "verifyLanding",
      "merge",
      "finishMerge",
      "closeIssue",
      "deleteBranch",
      "deleteEmptyBranch",
      "predictConflicts",
      "warnOfConflict",
      "recordConflictMet",
      "nudgeStalled",
      "restartStalled",
      "escalateStall",
    ]);
    for (const rule of coordinatorRules) expect(rule.reason).not.toContain("\n");
  });

  it("failUnwarmable: an instance that cannot be made fails its issue, not the run", () => {
    const s = state(started({ 10: [], 11: [] }), { type: "WarmFailed", at: at(), issue: 10, instance: "issue-10", error: "image build failed" }, warmed(11));
    expect(fired(s, "failUnwarmable")).toEqual([{ type: "Fail", issue: 10, reason: "instance issue-10 could not be made: image build failed" }]);
    expect(types(fired(s, "launch"))).toEqual(["Launch"]);
  });

  it("failUnstartable: an agent that could not be started maxAttempts times in a row fails its issue; a start in between resets the count", () => {
    const notStarted: CoordinatorEvent = { type: "WorkerLost", at: at(), issue: 10, attempt: null, reason: "no claude on PATH" };
    expect(fired(state(started({ 10: [] }), warmed(10), notStarted, warmed(10)), "failUnstartable")).toEqual([]);
    expect(fired(state(started({ 10: [] }), warmed(10), notStarted, warmed(10), notStarted), "failUnstartable")).toEqual([
      { type: "Fail", issue: 10, reason: "its agent could not be started (2 tries): no claude on PATH" },
    ]);
    expect(fired(state(started({ 10: [] }), warmed(10), notStarted, warmed(10), launched(10), notStarted), "failUnstartable")).toEqual([]);
  });

  it("failRefusedMerge: a moved head or a closed pull request fails the issue; a conflict does not", () => {
    const base = [started({ 10: [] }), warmed(10), finished(10), checked(10, "h10-1")];
    const refused = (reason: "head-moved" | "conflicting"): CoordinatorEvent => ({
      type: "MergeRefused",
      at: at(31),
      issue: 10,
      pr: 110,
      headSha: "h10-1",
      reason,
      detail: "someone pushed",
      conflicts: [],
    });
    expect(types(fired(state(base, refused("head-moved")), "failRefusedMerge"))).toEqual(["Fail"]);
    expect(fired(state(base, refused("conflicting")), "failRefusedMerge")).toEqual([]);
    expect(types(fired(state(base, refused("conflicting")), "rebaseConflictingPullRequest"))).toEqual(["RequestRebase"]);
  });

  it("failAfterMaxAttempts: the failure that uses the last attempt fails the issue", () => {
    const failure = { kind: "agent-exit", summary: "the agent exited with code 1", command: null, output: "done" } as const;
    const retry: LaunchPrompt = { kind: "retry", attempt: 2, maxAttempts: 2, failure };
    const once = [started({ 10: [] }), warmed(10), launched(10), reported(10, 1, "failure")];
    expect(fired(state(once), "failAfterMaxAttempts")).toEqual([]);
    const twice = [...once, { type: "Retried", at: at(), issue: 10, attempt: 1, failure, prompt: retry } as const, launched(10, 2, FEATURE, retry), reported(10, 2, "failure")];
    expect(fired(state(twice), "failAfterMaxAttempts")).toEqual([{ type: "Fail", issue: 10, reason: "2 of 2 attempts failed; the last: the agent exited with code 1", failure: expect.objectContaining({ kind: "agent-exit" }) as unknown }]);
    expect(fired(state(twice), "retryFailure")).toEqual([]);
  });

  it("retryFailure: a failed attempt runs again with the retry template and its failure's tail", () => {
    const s = state(started({ 10: [] }), warmed(10), launched(10), reported(10, 1), pushed(10, "h10-1"), {
      type: "VerifyFailed",
      at: at(22),
      issue: 10,
      headSha: "h10-1",
      command: "npm test",
      exitCode: 1,
      outputTail: "FAIL login.test.ts",
    });
    expect(fired(s, "retryFailure")).toEqual([
      {
        type: "Retry",
        issue: 10,
        attempt: 1,
        failure: { kind: "verify", summary: "npm test exited 1", command: "npm test", output: "FAIL login.test.ts" },
        prompt: {
          kind: "retry",
          attempt: 2,
          maxAttempts: 2,
          failure: { kind: "verify", summary: "npm test exited 1", command: "npm test", output: "FAIL login.test.ts" },
        },
      },
    ]);
    // A crash, no commits and a lost worker are failures too.
    expect(types(fired(state(started({ 10: [] }), warmed(10), launched(10), reported(10, 1, "crash")), "retryFailure"))).toEqual(["Retry"]);
    expect(types(fired(state(started({ 10: [] }), warmed(10), launched(10), reported(10, 1, "success", { commitsAhead: 0 })), "retryFailure"))).toEqual(["Retry"]);
    const lost: CoordinatorEvent = { type: "WorkerLost", at: at(15), issue: 10, attempt: 1, reason: "container exited" };
    expect(fired(state(started({ 10: [] }), warmed(10), launched(10), lost), "retryFailure")[0]).toMatchObject({ failure: { kind: "lost" } });
  });

  it("retryFailure: reported work lost with its host before it was collected is made again elsewhere, as one more attempt", () => {
    const gone: CoordinatorEvent = { type: "ReportedWorkLost", at: at(30), issue: 10, headSha: "h10-1", reason: "host b has not answered for 61 s" };
    const reportedOnly = [started({ 10: [] }), { type: "Warmed", at: at(), issue: 10, instance: "issue-10", host: "b" } as const, launched(10), reported(10, 1)];
    expect(types(fired(state(reportedOnly), "push"))).toEqual(["Push"]);
    const s = state(reportedOnly, gone);
    // No push of a head nobody has any more; the instance is made again (placement passes over a silent host) and the retry follows.
    expect(fired(s, "push")).toEqual([]);
    // Nothing of its own is on the forge (the branch is where the first launch made it, at its base): no head, so no
    // pull request of no commits is opened while the retry is on its way.
    expect(s.issues[10]).toMatchObject({ headSha: null, pushedSha: `${FEATURE}@0`, warm: "pending" });
    expect(fired(s, "openPullRequest")).toEqual([]);
    expect(fired(s, "warm")).toEqual([{ type: "Warm", issue: 10, instance: "issue-10", base: FEATURE }]);
    expect(fired(s, "retryFailure")).toEqual([
      expect.objectContaining({ type: "Retry", issue: 10, attempt: 1, failure: { kind: "lost", summary: "host b has not answered for 61 s", command: null, output: null } }),
    ]);
    // Work the forge already has stays: the head goes back to it, not to nothing.
    const pushedBefore = state(started({ 10: [] }), warmed(10), launched(10), reported(10, 1), pushed(10, "h10-1"), launched(10, 2, FEATURE, { kind: "review", headSha: "h10-1" } as LaunchPrompt), reported(10, 2, "success", { headSha: "h10-2" }), { ...gone, headSha: "h10-2" });
    expect(pushedBefore.issues[10]).toMatchObject({ headSha: "h10-1", pushedSha: "h10-1" });
    // A head pushed after all, or a later report, is not undone by a stale loss.
    expect(state(reportedOnly, pushed(10, "h10-1"), gone).issues[10]).toMatchObject({ headSha: "h10-1", warm: "ready" });
    expect(state(reportedOnly, { ...gone, headSha: "h10-0" }).issues[10]).toMatchObject({ headSha: "h10-1", warm: "ready" });
  });

  it("retryFailure: a crashed rebase runs again as a rebase", () => {
    const rebase: LaunchPrompt = { kind: "rebase", onto: FEATURE, ontoSha: null, from: null, paths: ["a.ts"], cause: "pull-request-conflict" };
    const s = state(started({ 10: [] }), warmed(10), finished(10), launched(10, 2, FEATURE, rebase), reported(10, 2, "crash"));
    expect(fired(s, "retryFailure")[0]).toMatchObject({ type: "Retry", prompt: rebase });
  });

  it("blockByWorker: a worker that says it is blocked is blocked, with its reason", () => {
    const s = state(started({ 10: [], 12: [10] }), warmed(10, 12), launched(10), reported(10, 1, "blocked"));
    expect(fired(s, "blockByWorker")).toEqual([{ type: "Block", issue: 10, by: { kind: "worker" }, reason: "the worker is blocked: needs credentials" }]);
    expect(fired(s, "retryFailure")).toEqual([]);
  });

  it("blockOnDependency: a dependent of a failed issue is blocked once its own agent is done", () => {
    const failedTen: CoordinatorEvent = { type: "Failed", at: at(40), issue: 10, reason: "2 attempts failed" };
    const waiting = state(started({ 10: [], 12: [10] }), warmed(10, 12), launched(10), reported(10, 1, "failure"), failedTen);
    expect(fired(waiting, "blockOnDependency")).toEqual([{ type: "Block", issue: 12, by: { kind: "dependency", issue: 10 }, reason: "dependency #10 failed" }]);
    const running = state(started({ 10: [], 12: [10] }), warmed(10, 12), launched(10), launched(12, 1, "issue-10"), reported(10, 1, "failure"), failedTen);
    expect(fired(running, "blockOnDependency")).toEqual([]);
  });

  it("blockOnOutsideDependency: an open dependency outside the run blocks; a closed one counts as merged", () => {
    const open = state(started({ 10: [], 12: [10] }, { selected: [12] }), warmed(12));
    expect(fired(open, "blockOnOutsideDependency")).toEqual([
      { type: "Block", issue: 12, by: { kind: "outside", ref: "#10" }, reason: "depends on #10, which is not in this run and not closed" },
    ]);
    const closed = state(started({ 10: [], 12: [10] }, { selected: [12], closed: [10] }), warmed(12));
    expect(fired(closed, "blockOnOutsideDependency")).toEqual([]);
    expect(fired(closed, "launch")[0]).toMatchObject({ issue: 12, base: FEATURE, stacked: false });
  });

  it("warm: every issue is warmed up front, those that must wait too, once", () => {
    const s = state(started({ 11: [], 12: [], 13: [11, 12] }));
    expect(fired(s, "warm")).toEqual([11, 12, 13].map((n) => ({ type: "Warm", issue: n, instance: `issue-${n}`, base: FEATURE })));
    expect(fired(state(started({ 11: [] }), warmed(11)), "warm")).toEqual([]);
  });

  it("launch: what the base-branch rule allows, lowest number first, at most maxParallel", () => {
    const s = state(started({ 10: [], 11: [], 12: [] }, { settings: { maxParallel: 2 } }), warmed(10, 11, 12));
    expect(fired(s, "launch")).toEqual([10, 11].map((n) => ({
      type: "Launch",
      issue: n,
      instance: `issue-${n}`,
      branch: `issue-${n}`,
      base: FEATURE,
      stacked: false,
      attempt: 1,
      prompt: { kind: "implementer" },
      dependencies: [],
      fresh: false,
    })));
    // A launch in flight keeps its slot.
    const inFlight = fired(s, "launch").slice(0, 1);
    expect(fired(s, "launch", { inFlight }).map((a) => (a.type === "Launch" ? a.issue : 0))).toEqual([11]);
  });

  it("launch: at most a host's slots on that host, the next issue in order taking a slot elsewhere", () => {
    const onHosts = (hosts: Record<number, string>): CoordinatorEvent[] =>
      Object.entries(hosts).map(([n, host]) => ({ type: "Warmed", at: at(), issue: Number(n), instance: `issue-${n}`, host }));
    const base = [started({ 10: [], 11: [], 12: [], 13: [], 14: [] }, { settings: { maxParallel: 4, hostSlots: { local: 1, big: 2 } } }), onHosts({ 10: "local", 11: "local", 12: "big", 13: "big", 14: "big" })];
    const issuesOf = (actions: readonly Action[]): number[] => actions.map((a) => (a.type === "Launch" ? a.issue : 0));
    // maxParallel would allow four: local takes one, big two; 11 and 14 wait although the run has a slot free.
    expect(issuesOf(fired(state(base), "launch"))).toEqual([10, 12, 13]);
    // Launches in flight hold their host's slot too.
    expect(issuesOf(fired(state(base), "launch", { inFlight: fired(state(base), "launch").slice(0, 1) }))).toEqual([12, 13]);
    const running = state(base, launched(10), launched(12), launched(13));
    expect(fired(running, "launch")).toEqual([]);
    expect(running.issues[11]?.status).toMatchObject({ kind: "ready", waitingOn: ["slot"] });
    expect(running.issues[11]?.status.reason).toContain("waits for a slot on local (its 1 taken)");
    expect(running.issues[14]?.status.reason).toContain("waits for a slot on big (its 2 taken)");
    // 12 is done: its slot on big goes to 14; local stays full.
    expect(issuesOf(fired(state(base, launched(10), launched(12), launched(13), reported(12, 1)), "launch"))).toEqual([14]);
    // A run recorded before hosts (no hostSlots), or a host the run has no slots for: maxParallel alone.
    const unbounded = [started({ 10: [], 11: [] }, { settings: { maxParallel: 2 } }), onHosts({ 10: "local", 11: "local" })];
    expect(issuesOf(fired(state(unbounded), "launch"))).toEqual([10, 11]);
    const unknownHost = [started({ 10: [], 11: [] }, { settings: { maxParallel: 2, hostSlots: { local: 1 } } }), onHosts({ 10: "gone", 11: "gone" })];
    expect(issuesOf(fired(state(unknownHost), "launch"))).toEqual([10, 11]);
  });

  it("moveToFreeHost: an issue held by its full host moves to one with a slot free, unless someone already there takes it", () => {
    const onHosts = (hosts: Record<number, string>): CoordinatorEvent[] =>
      Object.entries(hosts).map(([n, host]) => ({ type: "Warmed", at: at(), issue: Number(n), instance: `issue-${n}`, host }));
    const issuesOf = (actions: readonly Action[]): number[] => actions.map((a) => (a.type === "Launch" ? a.issue : 0));
    const settings = { maxParallel: 3, hostSlots: { local: 1, big: 2 } };
    const base = [started({ 10: [], 11: [], 12: [] }, { settings }), onHosts({ 10: "local", 11: "local", 12: "big" })];
    // local's one slot goes to 10; 11 would wait for it while big has a slot free: it moves there.
    expect(issuesOf(fired(state(base), "launch"))).toEqual([10, 12]);
    const move = fired(state(base), "moveToFreeHost");
    expect(move).toEqual([{ type: "Warm", issue: 11, instance: "issue-11", base: FEATURE, to: "big" }]);
    // While the move is in flight it holds big's slot and one of the run's: nothing else is launched or moved for it.
    const moving = state(base, launched(10), launched(12));
    expect(fired(moving, "moveToFreeHost", { inFlight: move })).toEqual([]);
    expect(fired(moving, "launch", { inFlight: move })).toEqual([]);
    // Made on big: it launches there.
    const moved = state(base, launched(10), launched(12), { type: "Warmed", at: at(), issue: 11, instance: "issue-11", host: "big" });
    expect(moved.issues[11]?.host).toBe("big");
    expect(issuesOf(fired(moved, "launch"))).toEqual([11]);
    // big could not make it: it stays on local, and is not moved to big again.
    const refused = state(base, launched(10), launched(12), { type: "NotMoved", at: at(), issue: 11, instance: "issue-11", to: "big", error: "host big does not answer" });
    expect(refused.issues[11]?.host).toBe("local");
    expect(fired(refused, "moveToFreeHost")).toEqual([]);
    expect(refused.issues[11]?.status.reason).toContain("waits for a slot on local (its 1 taken)");
    // A ready issue already on big takes big's free slot, though its number is higher: nothing moves.
    const crowded = [started({ 10: [], 11: [], 12: [], 13: [] }, { settings: { maxParallel: 4, hostSlots: settings.hostSlots } }), onHosts({ 10: "local", 11: "local", 12: "big", 13: "big" })];
    expect(issuesOf(fired(state(crowded), "launch"))).toEqual([10, 12, 13]);
    expect(fired(state(crowded), "moveToFreeHost")).toEqual([]);
    // While another instance is still being made, nothing moves: the slot may be the one it lands on.
    const warming = [started({ 10: [], 11: [], 12: [], 13: [] }, { settings }), onHosts({ 10: "local", 11: "local", 12: "big" })];
    expect(fired(state(warming), "moveToFreeHost")).toEqual([]);
    // No slot of the run free (maxParallel): nothing moves either.
    const busy = [started({ 10: [], 11: [], 12: [] }, { settings: { maxParallel: 2, hostSlots: settings.hostSlots } }), onHosts({ 10: "local", 11: "local", 12: "big" })];
    expect(fired(state(busy), "moveToFreeHost")).toEqual([]);
  });

  it("launch: a stacked issue waits for its parent's verified push, not its launch (stack only on real work)", () => {
    const base = [started({ 11: [], 12: [11] }), warmed(11, 12), launched(11)];
    expect(fired(state(base), "launch")).toEqual([]);
    expect(state(base).issues[12]?.status).toMatchObject({ kind: "waiting", waitingOn: [11] });
    // Reported and pushed, not verified yet: still nothing to build on.
    expect(fired(state(base, reported(11, 1), pushed(11, "h11-1")), "launch")).toEqual([]);
    // Verify failed: the parent's work is not real work yet.
    const red: CoordinatorEvent = { type: "VerifyFailed", at: at(22), issue: 11, headSha: "h11-1", command: "npm test", exitCode: 1, outputTail: "1 failing" };
    expect(fired(state(base, reported(11, 1), pushed(11, "h11-1"), red), "launch")).toEqual([]);
    expect(fired(state(base, reported(11, 1), pushed(11, "h11-1"), verified(11, "h11-1")), "launch")).toEqual([
      expect.objectContaining({ issue: 12, base: "issue-11", stacked: true }),
    ]);
  });

  it("launch: stacks on the one unmerged dependency once it holds verified work; waits on two", () => {
    const s = state(started({ 11: [], 12: [11], 13: [11, 12] }), warmed(11, 12, 13), launched(11), reported(11, 1), pushed(11, "h11-1"), verified(11, "h11-1"));
    expect(fired(s, "launch")).toEqual([
      expect.objectContaining({ issue: 12, base: "issue-11", stacked: true, dependencies: [{ number: 11, title: "Issue 11", state: "launched", branch: "issue-11" }] }),
    ]);
    expect(s.issues[13]?.status).toMatchObject({ kind: "waiting", waitingOn: [11, 12] });
    const noStacking = state(started({ 11: [], 12: [11] }, { settings: { stacking: false } }), warmed(11, 12), launched(11), reported(11, 1), pushed(11, "h11-1"), verified(11, "h11-1"));
    expect(fired(noStacking, "launch")).toEqual([]);
  });

  it("launch: a rate-limited issue starts again with the same prompt after the limit, no attempt burned", () => {
    const until = at(600);
    const s = state(started({ 10: [] }), warmed(10), launched(10), { type: "RateLimited", at: at(15), issue: 10, attempt: 1, until, account: "claude", resetsAt: null, message: null });
    expect(fired(s, "launch", { now: T0 + 599_000 })).toEqual([]);
    expect(fired(s, "launch", { now: T0 + 600_000 })).toEqual([expect.objectContaining({ attempt: 2, prompt: { kind: "implementer" } })]);
    expect(fired(s, "retryFailure")).toEqual([]);
    expect(s.issues[10]?.status).toMatchObject({ kind: "rate-limited", until });
  });

  it("launch: nothing starts while the run or the issue is paused", () => {
    const base = [started({ 10: [], 11: [] }), warmed(10, 11)];
    expect(fired(state(base, { type: "Paused", at: at(), issue: null }), "launch")).toEqual([]);
    expect(fired(state(base, { type: "Paused", at: at(), issue: 10 }), "launch")).toEqual([expect.objectContaining({ issue: 11 })]);
    expect(fired(state(base, { type: "Paused", at: at(), issue: null }, { type: "Resumed", at: at(), issue: null }), "launch")).toHaveLength(2);
  });

  it("push: a reported head goes to the forge with the lease; a rebased one is forced", () => {
    const s = state(started({ 10: [] }), warmed(10), launched(10), reported(10, 1));
    expect(fired(s, "push")).toEqual([{ type: "Push", issue: 10, branch: "issue-10", headSha: "h10-1", expectedSha: `${FEATURE}@0`, force: false }]);
    expect(fired(state(started({ 10: [] }), warmed(10), launched(10)), "push")).toEqual([]);
    const rebase: LaunchPrompt = { kind: "rebase", onto: FEATURE, ontoSha: null, from: null, paths: [], cause: "pull-request-conflict" };
    const rebased = state(started({ 10: [] }), warmed(10), finished(10), launched(10, 2, FEATURE, rebase), reported(10, 2, "success", { headSha: "h10-r" }));
    expect(fired(rebased, "push")).toEqual([expect.objectContaining({ headSha: "h10-r", expectedSha: "h10-1", force: true })]);
  });

  it("push: when the checkout had moved past the reported head, what was pushed is the head; no second push, verify runs on it", () => {
    const s = state(started({ 10: [] }), warmed(10), launched(10), reported(10, 1), pushed(10, "h10-later"));
    expect(fired(s, "push")).toEqual([]);
    expect(s.issues[10]?.headSha).toBe("h10-later");
    const actions = decide(s, T0 + 60_000, []);
    expect(actions).toContainEqual(expect.objectContaining({ type: "Verify", issue: 10, headSha: "h10-later" }));
    expect(types(actions)).not.toContain("Push");
  });

  it("restack: after the parent's squash merge, rebase --onto the squash from the old parent head", () => {
    const s = state(started({ 10: [], 12: [10] }), warmed(10, 12), finished(10), finished(12, "issue-10"), checked(10, "h10-1"), merged(10));
    expect(fired(s, "restack")).toEqual([
      { type: "Restack", issue: 12, branch: "issue-12", parent: 10, onto: FEATURE, ontoSha: "s10", from: "issue-10@0", expectedSha: "h12-1" },
    ]);
    // Not under a running agent.
    const running = state(started({ 10: [], 12: [10] }), warmed(10, 12), finished(10), launched(12, 1, "issue-10"), checked(10, "h10-1"), merged(10));
    expect(fired(running, "restack")).toEqual([]);
  });

  it("restack: a parent whose history was rewritten takes its stacked branch along", () => {
    const s = state(started({ 10: [], 12: [10] }), warmed(10, 12), finished(10), finished(12, "issue-10"), pushed(10, "h10-rewritten", true));
    expect(fired(s, "restack")).toEqual([expect.objectContaining({ issue: 12, onto: "issue-10", ontoSha: "h10-rewritten", from: "issue-10@0" })]);
  });

  it("rebaseAfterRestackConflict: a conflicting restack sends the rebase template with the paths, once", () => {
    const base = [started({ 10: [], 12: [10] }), warmed(10, 12), finished(10), finished(12, "issue-10"), checked(10, "h10-1"), merged(10)];
    const conflict: CoordinatorEvent = { type: "RestackConflicted", at: at(32), issue: 12, onto: FEATURE, ontoSha: "s10", from: "issue-10@0", paths: ["src/login.ts"] };
    const prompt = { kind: "rebase", onto: FEATURE, ontoSha: "s10", from: "issue-10@0", paths: ["src/login.ts"], cause: "restack-conflict" } as const;
    expect(fired(state(base, conflict), "rebaseAfterRestackConflict")).toEqual([{ type: "RequestRebase", issue: 12, epoch: 1, prompt }]);
    expect(fired(state(base, conflict), "restack")).toEqual([]);
    const asked = state(base, conflict, { type: "RebaseRequested", at: at(33), issue: 12, epoch: 1, prompt });
    expect(fired(asked, "rebaseAfterRestackConflict")).toEqual([]);
    expect(fired(asked, "launch")).toEqual([expect.objectContaining({ issue: 12, attempt: 2, prompt, base: "issue-10" })]);
  });

  it("verify: a pushed head gets verify.all and verify.e2e in the worker's container, once per head", () => {
    const s = state(started({ 10: [] }, { settings: { verify: { all: "npm test", e2e: "npm run e2e" } } }), warmed(10), launched(10), reported(10, 1), pushed(10, "h10-1"));
    expect(fired(s, "verify")).toEqual([{ type: "Verify", issue: 10, instance: "issue-10", headSha: "h10-1", commands: ["npm test", "npm run e2e"] }]);
    expect(fired(state(started({ 10: [] }, { settings: { verify: { all: null, e2e: null } } }), warmed(10), launched(10), reported(10, 1), pushed(10, "h10-1")), "verify")).toEqual([]);
    expect(fired(state(started({ 10: [] }), warmed(10), launched(10), reported(10, 1), pushed(10, "h10-1"), verified(10, "h10-1")), "verify")).toEqual([]);
  });

  it("verify: a stacked branch made before its parent pushed is not verified while the parent is being merged, but after the restack onto the squash", () => {
    // #12 started on issue-10 before #10 pushed: it sits on the sha issue-10 was made at, without #10's work.
    const stackedEarly: CoordinatorEvent = { type: "Launched", at: at(11), issue: 12, attempt: 1, why: "initial", prompt: { kind: "implementer" }, base: "issue-10", baseSha: `${FEATURE}@0`, headSha: null };
    const mergeReady: CoordinatorEvent = { type: "MergeReady", at: at(30), issue: 10, pr: 110, headSha: "h10-1", stacked: [{ issue: 12, branch: "issue-12", parentSha: `${FEATURE}@0` }] };
    const merging = [
      started({ 10: [], 12: [10] }),
      warmed(10, 12),
      launched(10),
      stackedEarly,
      reported(10, 1),
      pushed(10, "h10-1"),
      verified(10, "h10-1"),
      opened(10, FEATURE, "h10-1"),
      checked(10, "h10-1"),
      mergeReady,
      // #12's agent finishes while #10's squash merge is under way.
      reported(12, 1),
      pushed(12, "h12-1"),
    ];
    expect(fired(state(merging), "verify")).toEqual([]);
    const squashed: CoordinatorEvent = { type: "Merged", at: at(31), issue: 10, pr: 110, headSha: "h10-1", squashSha: "s10" };
    expect(fired(state(merging, squashed), "verify")).toEqual([]);
    expect(fired(state(merging, squashed), "restack")).toEqual([expect.objectContaining({ issue: 12, onto: FEATURE, ontoSha: "s10", from: `${FEATURE}@0` })]);
    const restacked: CoordinatorEvent = { type: "Restacked", at: at(32), issue: 12, onto: FEATURE, ontoSha: "s10", from: `${FEATURE}@0`, headSha: "h12-r" };
    expect(fired(state(merging, squashed, restacked), "verify")).toEqual([expect.objectContaining({ issue: 12, headSha: "h12-r" })]);
  });

  it("verify: a stacked branch sitting on its parent's verified head is verified; one left on an older head is not", () => {
    const onParentHead: CoordinatorEvent = { type: "Launched", at: at(11), issue: 12, attempt: 1, why: "initial", prompt: { kind: "implementer" }, base: "issue-10", baseSha: "h10-1", headSha: null };
    const base = [started({ 10: [], 12: [10] }), warmed(10, 12), launched(10), reported(10, 1), pushed(10, "h10-1"), verified(10, "h10-1"), onParentHead, reported(12, 1), pushed(12, "h12-1")];
    expect(fired(state(base), "verify")).toEqual([expect.objectContaining({ issue: 12, headSha: "h12-1" })]);
    // The parent's head moved (more work, verified) while the merge of it is recorded: #12 waits for the squash, unverified.
    const moved = [pushed(10, "h10-2"), verified(10, "h10-2"), { type: "MergeReady", at: at(30), issue: 10, pr: 110, headSha: "h10-2", stacked: [] } satisfies CoordinatorEvent];
    expect(fired(state(base, opened(10, FEATURE, "h10-1"), moved), "verify")).toEqual([]);
  });

  it("verify: one at a time per worker: a newer head waits for the verify in flight on the older one", () => {
    const s = state(started({ 10: [] }), warmed(10), launched(10), reported(10, 1), pushed(10, "h10-1"));
    const older = fired(s, "verify");
    expect(older).toEqual([expect.objectContaining({ issue: 10, headSha: "h10-1" })]);
    // The head moves (a restack, a forced push) while the verify of the older head still runs in the worker's checkout.
    const moved = state(started({ 10: [] }), warmed(10), launched(10), reported(10, 1), pushed(10, "h10-1"), pushed(10, "h10-2", true));
    expect(fired(moved, "verify", { inFlight: older })).toEqual([]);
    expect(fired(moved, "verify")).toEqual([expect.objectContaining({ issue: 10, headSha: "h10-2" })]);
  });

  it("openPullRequest: pushed work gets a pull request on its base, naming its dependencies", () => {
    const s = state(started({ 10: [], 12: [10] }), warmed(10, 12), launched(10), launched(12, 1, "issue-10"), reported(12, 1), pushed(12, "h12-1"));
    expect(fired(s, "openPullRequest")).toEqual([{ type: "OpenPullRequest", issue: 12, head: "issue-12", base: "issue-10", title: "Issue 12", dependencies: [10] }]);
  });

  it("retarget: after the restack the pull request leaves the merged parent; a settled one too, before the branch goes", () => {
    const base = [started({ 10: [], 12: [10] }), warmed(10, 12), finished(10), finished(12, "issue-10"), checked(10, "h10-1"), merged(10)];
    expect(fired(state(base), "retarget")).toEqual([]);
    const restacked: CoordinatorEvent = { type: "Restacked", at: at(33), issue: 12, onto: FEATURE, ontoSha: "s10", from: "issue-10@0", headSha: "h12-r" };
    expect(fired(state(base, restacked), "retarget")).toEqual([{ type: "Retarget", issue: 12, pr: 112, base: FEATURE }]);
    const skipped: CoordinatorEvent = { type: "Skipped", at: at(33), issue: 12, reason: "not needed" };
    expect(fired(state(base, skipped), "retarget")).toEqual([{ type: "Retarget", issue: 12, pr: 112, base: FEATURE }]);
  });

  it("requestReview: with coordinator.review, a verified head is reviewed by the same worker", () => {
    const events = [started({ 10: [] }, { settings: { review: true } }), warmed(10), finished(10)];
    expect(fired(state(events), "requestReview")).toEqual([{ type: "RequestReview", issue: 10, headSha: "h10-1", pullRequestUrl: "https://forge.test/pr/110" }]);
    expect(fired(state(events), "checkPullRequest")).toEqual([]);
    expect(fired(state(started({ 10: [] }), warmed(10), finished(10)), "requestReview")).toEqual([]);
  });

  it("concludeReview: a review attempt that ends well passes the review", () => {
    const prompt: LaunchPrompt = { kind: "review", headSha: "h10-1", pullRequestUrl: null };
    const s = state(
      started({ 10: [] }, { settings: { review: true } }),
      warmed(10),
      finished(10),
      { type: "ReviewRequested", at: at(25), issue: 10, headSha: "h10-1", pullRequestUrl: null },
      launched(10, 2, FEATURE, prompt),
      reported(10, 2, "success", { headSha: "h10-1", summary: "looks right" }),
    );
    expect(fired(s, "concludeReview")).toEqual([{ type: "ConcludeReview", issue: 10, attempt: 2, headSha: "h10-1", summary: "looks right" }]);
    expect(fired(s, "requestReview")).toEqual([]);
  });

  it("checkPullRequest: every known gate met → ask the forge; pending is asked again after the poll interval and after a merge", () => {
    const s = state(started({ 10: [] }), warmed(10), finished(10));
    expect(fired(s, "checkPullRequest")).toEqual([{ type: "CheckPullRequest", issue: 10, pr: 110, headSha: "h10-1", epoch: 0, after: null }]);
    const pending = state(started({ 10: [] }), warmed(10), finished(10), checked(10, "h10-1", { checks: "pending" }));
    const seen = Date.parse(at(24));
    expect(fired(pending, "checkPullRequest", { now: seen + PULL_REQUEST_POLL_MS - 1 })).toEqual([]);
    expect(fired(pending, "checkPullRequest", { now: seen + PULL_REQUEST_POLL_MS })).toEqual([expect.objectContaining({ after: at(24) })]);
    // Mergeable an epoch ago says nothing now: the sibling merged since.
    const sibling = state(started({ 10: [], 11: [] }), warmed(10, 11), finished(10), finished(11), checked(10, "h10-1"), checked(11, "h11-1"), merged(10));
    expect(fired(sibling, "checkPullRequest")).toEqual([expect.objectContaining({ issue: 11, epoch: 1 })]);
    expect(fired(sibling, "merge")).toEqual([]);
  });

  it("rebaseConflictingPullRequest: a pull request the forge calls conflicting gets the rebase template, once per merge", () => {
    const s = state(started({ 10: [] }), warmed(10), finished(10), checked(10, "h10-1", { mergeability: "conflicting", conflicts: ["src/a.ts"] }));
    const prompt = { kind: "rebase", onto: FEATURE, ontoSha: null, from: null, paths: ["src/a.ts"], cause: "pull-request-conflict" } as const;
    expect(fired(s, "rebaseConflictingPullRequest")).toEqual([{ type: "RequestRebase", issue: 10, epoch: 0, prompt }]);
    const asked = state(started({ 10: [] }), warmed(10), finished(10), checked(10, "h10-1", { mergeability: "conflicting" }), {
      type: "RebaseRequested",
      at: at(25),
      issue: 10,
      epoch: 0,
      prompt,
    });
    expect(fired(asked, "rebaseConflictingPullRequest")).toEqual([]);
    expect(fired(asked, "launch")).toEqual([expect.objectContaining({ attempt: 2, prompt })]);
  });

  it("merge: every gate met, one at a time, dependencies first then by number, naming the head and the stacked parents", () => {
    const s = state(
      started({ 10: [], 11: [], 12: [10] }),
      warmed(10, 11, 12),
      finished(11),
      finished(10),
      finished(12, "issue-10"),
      checked(10, "h10-1"),
      checked(11, "h11-1"),
    );
    expect(fired(s, "merge")).toEqual([
      { type: "Merge", issue: 10, pr: 110, headSha: "h10-1", title: "Issue 10", stacked: [{ issue: 12, branch: "issue-12", parentSha: "issue-10@0" }], verified: null },
    ]);
    expect(fired(s, "merge", { inFlight: fired(s, "merge") })).toEqual([]);
    // Not before its dependency is merged, and not with checks failing.
    const early = state(started({ 10: [], 12: [10] }), warmed(10, 12), finished(10), finished(12), checked(12, "h12-1"));
    expect(fired(early, "merge")).toEqual([]);
    const red = state(started({ 10: [] }), warmed(10), finished(10), checked(10, "h10-1", { checks: "failure", details: ["ci"] }));
    expect(fired(red, "merge")).toEqual([]);
    expect(types(fired(red, "retryFailure"))).toEqual(["Retry"]);
  });

  it("finishMerge: a merge recorded as ready and not done is finished with the recorded head", () => {
    const s = state(started({ 10: [] }), warmed(10), finished(10), checked(10, "h10-1"), {
      type: "MergeReady",
      at: at(30),
      issue: 10,
      pr: 110,
      headSha: "h10-1",
      stacked: [],
    });
    expect(fired(s, "finishMerge")).toEqual([{ type: "Merge", issue: 10, pr: 110, headSha: "h10-1", title: "Issue 10", stacked: [], verified: null }]);
    expect(fired(s, "merge")).toEqual([]);
    expect(s.issues[10]?.status.kind).toBe("merging");
  });

  it("closeIssue: a pull request merged by this run closes its issue", () => {
    const s = state(started({ 10: [] }), warmed(10), finished(10), checked(10, "h10-1"), merged(10));
    expect(fired(s, "closeIssue")).toEqual([{ type: "CloseIssue", issue: 10 }]);
    expect(fired(state(started({ 10: [] }, { closed: [10] })), "closeIssue")).toEqual([]);
  });

  it("deleteBranch: only after every branch on it was restacked and every pull request retargeted", () => {
    const base = [started({ 10: [], 12: [10] }), warmed(10, 12), finished(10), finished(12, "issue-10"), checked(10, "h10-1"), merged(10)];
    expect(fired(state(base), "deleteBranch")).toEqual([]);
    const restacked: CoordinatorEvent = { type: "Restacked", at: at(33), issue: 12, onto: FEATURE, ontoSha: "s10", from: "issue-10@0", headSha: "h12-r" };
    expect(fired(state(base, restacked), "deleteBranch")).toEqual([]);
    const retargeted: CoordinatorEvent = { type: "Retargeted", at: at(34), issue: 12, pr: 112, base: FEATURE };
    expect(fired(state(base, restacked, retargeted), "deleteBranch")).toEqual([{ type: "DeleteBranch", issue: 10, branch: "issue-10", expectedSha: "h10-1" }]);
  });

  it("deleteEmptyBranch: a failed or blocked issue's branch with nothing pushed goes, at the sha it was made at; pushed work stays", () => {
    const failed = (n: number): CoordinatorEvent => ({ type: "Failed", at: at(40), issue: n, reason: "failed 2 attempts" });
    const blocked = (n: number, by: number): CoordinatorEvent => ({ type: "Blocked", at: at(41), issue: n, by: { kind: "dependency", issue: by }, reason: `dependency #${String(by)} failed` });
    // 10 failed before pushing anything; 12, stacked on it, was launched and reported work that was never pushed.
    const history = [started({ 10: [], 12: [10] }), warmed(10, 12), launched(10), reported(10, 1, "failure"), launched(12, 1, "issue-10"), reported(12, 1), failed(10), blocked(12, 10)];
    const unpushed = state(history);
    const issuesOf = (actions: readonly Action[]): number[] => actions.flatMap((a) => (a.type === "DeleteBranch" ? [a.issue] : []));
    expect(fired(unpushed, "deleteEmptyBranch")).toEqual([
      { type: "DeleteBranch", issue: 10, branch: "issue-10", expectedSha: `${FEATURE}@0` },
      { type: "DeleteBranch", issue: 12, branch: "issue-12", expectedSha: "issue-10@0" },
    ]);
    // Not while a launch of it is in flight (12's branch; 10's too, which it builds on); not once deleted.
    const inFlight: Action[] = [{ type: "Launch", issue: 12, instance: "issue-12", branch: "issue-12", base: "issue-10", stacked: true, attempt: 2, prompt: { kind: "implementer" }, dependencies: [], fresh: false }];
    expect(issuesOf(fired(unpushed, "deleteEmptyBranch", { inFlight }))).toEqual([]);
    expect(issuesOf(fired(state(history, { type: "BranchDeleted", at: at(42), issue: 10, branch: "issue-10" }), "deleteEmptyBranch"))).toEqual([12]);
    // Pushed work (a pull request on the forge) stays for inspection; an issue never launched has no branch.
    const pushedThenFailed = state(started({ 10: [], 11: [] }), warmed(10, 11), finished(10), failed(10), failed(11));
    expect(fired(pushedThenFailed, "deleteEmptyBranch")).toEqual([]);
    // Still running: nothing yet.
    expect(fired(state(started({ 10: [] }), warmed(10), launched(10)), "deleteEmptyBranch")).toEqual([]);
  });

  it("finish: when every issue is merged, failed or blocked and nothing is in flight; exit 1 unless all merged", () => {
    const done = state(started({ 10: [], 11: [] }, { closed: [11] }), warmed(10), finished(10), checked(10, "h10-1"), merged(10), {
      type: "IssueClosed",
      at: at(),
      issue: 10,
    }, { type: "BranchDeleted", at: at(), issue: 10, branch: "issue-10" });
    expect(explain(done, T0).map((d) => d.action)).toEqual([{ type: "Finish", exitCode: 0 }]);
    expect(explain(done, T0, [{ type: "CloseIssue", issue: 10 }])).toEqual([]);
    const failedTen: CoordinatorEvent = { type: "Failed", at: at(), issue: 10, reason: "no" };
    expect(explain(state(started({ 10: [] }), failedTen), T0).map((d) => d.action)).toEqual([{ type: "Finish", exitCode: 1 }]);
    expect(explain(state(started({ 10: [] }), failedTen, { type: "RunFinished", at: at(), exitCode: 1, abandoned: null }), T0)).toEqual([]);
  });
});
