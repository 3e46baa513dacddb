import { describe, expect, it } from "vitest";
import type { Action } from "./actions.ts";
import { decide } from "./decide.ts";
import type { CoordinatorEvent, CoordinatorEventType } from "./events.ts";
import { reportRows } from "./report.ts";
import { simulate, SIMULATION_START, type SimulationPlan, type SimulationResult } from "./simulate.ts";
import { replay } from "./state.ts";

const FEATURE = "feature/sim";

function run(plan: SimulationPlan): SimulationResult & { decided: Action[] } {
  const decided: Action[] = [];
  const result = simulate({ ...plan, onDecide: (actions) => decided.push(...actions) });
  expect(result.finished).toBe(true);
  return { ...result, decided };
}

/** The events of one type, narrowed. */
function eventsOf<T extends CoordinatorEventType>(events: readonly CoordinatorEvent[], type: T): Extract<CoordinatorEvent, { type: T }>[] {
  return events.filter((event): event is Extract<CoordinatorEvent, { type: T }> => event.type === type);
}

const mergeOrder = (events: readonly CoordinatorEvent[]): number[] => eventsOf(events, "Merged").map((event) => event.issue);
const statuses = (result: SimulationResult): Record<number, string> =>
  Object.fromEntries(Object.values(result.state.issues).map((issue) => [issue.number, issue.status.kind]));
const indexOf = (events: readonly CoordinatorEvent[], match: (event: CoordinatorEvent) => boolean): number => events.findIndex(match);

describe("scenarios against the simulated world", () => {
  it("a chain 10 ← 12 ← 14 stacks, merges in order, restacks each link onto the squash and retargets before deleting", () => {
    const result = run({ issues: { 10: [], 12: [10], 14: [12] }, settings: { maxParallel: 3 } });
    const launched = eventsOf(result.events, "Launched").filter((event) => event.attempt === 1);
    expect(launched.map((event) => [event.issue, event.base])).toEqual([
      [10, FEATURE],
      [12, "issue-10"],
      [14, "issue-12"],
    ]);
    expect(mergeOrder(result.events)).toEqual([10, 12, 14]);
    // Stacked only on real work: 12 starts on 10's verified, pushed head (no restack onto issue-10 needed), then moves
    // onto 10's squash; 14 starts on a verified head of 12's and moves onto 12's squash.
    const restacks = eventsOf(result.events, "Restacked").map((event) => [event.issue, event.onto, event.ontoSha]);
    const pushedHead = (n: number): string | undefined => eventsOf(result.events, "Pushed").find((event) => event.issue === n)?.headSha;
    expect(launched.find((event) => event.issue === 12)?.baseSha).toBe(pushedHead(10));
    const verifiedHeads = (n: number): string[] => eventsOf(result.events, "Verified").filter((event) => event.issue === n).map((event) => event.headSha);
    expect(verifiedHeads(12)).toContain(launched.find((event) => event.issue === 14)?.baseSha);
    expect(restacks).not.toContainEqual([12, "issue-10", pushedHead(10)]);
    expect(restacks).toContainEqual([12, FEATURE, eventsOf(result.events, "Merged")[0]?.squashSha]);
    expect(restacks).toContainEqual([14, FEATURE, eventsOf(result.events, "Merged")[1]?.squashSha]);
    // Launched on top of its parent's verified work, and verified after it.
    const at = (match: (event: CoordinatorEvent) => boolean): number => indexOf(result.events, match);
    expect(at((e) => e.type === "Launched" && e.issue === 12)).toBeGreaterThan(at((e) => e.type === "Verified" && e.issue === 10));
    expect(at((e) => e.type === "Launched" && e.issue === 14)).toBeGreaterThan(at((e) => e.type === "Verified" && e.issue === 12));
    expect(at((e) => e.type === "Verified" && e.issue === 12)).toBeGreaterThan(at((e) => e.type === "Verified" && e.issue === 10));
    // The parent's head and its stack are recorded before the merge: 12 sits on 10's merged head.
    expect(eventsOf(result.events, "MergeReady")[0]?.stacked).toEqual([{ issue: 12, branch: "issue-12", parentSha: eventsOf(result.events, "MergeReady")[0]?.headSha }]);
    for (const n of [10, 12]) {
      const deleted = indexOf(result.events, (e) => e.type === "BranchDeleted" && e.issue === n);
      const retargeted = indexOf(result.events, (e) => e.type === "Retargeted" && e.issue === n + 2);
      expect(retargeted).toBeGreaterThan(-1);
      expect(deleted).toBeGreaterThan(retargeted);
    }
    expect(result.world.branches[FEATURE]).toBe(eventsOf(result.events, "Merged")[2]?.squashSha);
    expect(Object.keys(result.world.branches)).toEqual([FEATURE]);
    expect(result.state.finished?.exitCode).toBe(0);
  });

  it("a diamond 13 ← {11, 12}: 13 starts only once one of them is merged, and merges last", () => {
    const result = run({ issues: { 11: [], 12: [], 13: [11, 12] }, settings: { maxParallel: 3 } });
    const start13 = indexOf(result.events, (e) => e.type === "Launched" && e.issue === 13);
    const firstMerge = indexOf(result.events, (e) => e.type === "Merged");
    expect(start13).toBeGreaterThan(firstMerge);
    expect(mergeOrder(result.events)).toEqual([11, 12, 13]);
    expect(statuses(result)).toEqual({ 11: "merged", 12: "merged", 13: "merged" });
  });

  it("a restack that conflicts sends the rebase template with the old parent head and the paths, then merges", () => {
    // 12 starts on 10's verified head; 10 merged, the move onto its squash conflicts.
    const result = run({ issues: { 10: [], 12: [10] }, scripts: { 12: { restack: ["conflict"] } } });
    const tenHead = eventsOf(result.events, "Pushed").find((event) => event.issue === 10)?.headSha;
    const conflict = eventsOf(result.events, "RestackConflicted")[0];
    expect(conflict).toMatchObject({ issue: 12, onto: FEATURE, from: tenHead, paths: ["src/shared.ts"] });
    const rebase = eventsOf(result.events, "Launched").find((event) => event.why === "rebase");
    expect(rebase?.prompt).toEqual({ kind: "rebase", onto: FEATURE, ontoSha: conflict?.ontoSha, from: tenHead, paths: ["src/shared.ts"], cause: "restack-conflict" });
    expect(eventsOf(result.events, "Pushed").filter((event) => event.issue === 12).map((event) => event.forced)).toEqual([false, true]);
    expect(mergeOrder(result.events)).toEqual([10, 12]);
    expect(reportRows(result.state).find((row) => row.issue === 12)).toMatchObject({ attempts: 2, failedAttempts: 0, status: "merged" });
  });

  it("an agent that fails once then succeeds is retried with its failure and merges", () => {
    const result = run({ issues: { 10: [] }, scripts: { 10: { attempts: ["failure"] } } });
    expect(eventsOf(result.events, "Retried")[0]?.prompt).toMatchObject({ kind: "retry", attempt: 2, maxAttempts: 2, failure: { kind: "agent-exit", output: "tests fail" } });
    expect(reportRows(result.state)[0]).toMatchObject({ attempts: 2, failedAttempts: 1, status: "merged", turns: 6, costUsd: 0.5 });
  });

  it("one that always fails fails after maxAttempts, its dependents are blocked, the rest merges, exit 1", () => {
    const result = run({
      issues: { 10: [], 11: [], 12: [10], 14: [12] },
      settings: { maxAttempts: 2 },
      scripts: { 10: { attempts: ["failure", "failure", "failure"] } },
    });
    expect(statuses(result)).toEqual({ 10: "failed", 11: "merged", 12: "blocked", 14: "blocked" });
    expect(eventsOf(result.events, "Launched").filter((event) => event.issue === 10)).toHaveLength(2);
    expect(eventsOf(result.events, "Blocked").map((event) => [event.issue, event.by])).toEqual([
      [12, { kind: "dependency", issue: 10 }],
      [14, { kind: "dependency", issue: 12 }],
    ]);
    expect(result.state.finished?.exitCode).toBe(1);
  });

  it("an agent that crashes is still reported, and retried", () => {
    const result = run({ issues: { 10: [] }, scripts: { 10: { attempts: ["crash"] } } });
    expect(eventsOf(result.events, "Retried")[0]?.failure).toMatchObject({ kind: "crash", summary: "the agent was killed by SIGKILL" });
    expect(statuses(result)).toEqual({ 10: "merged" });
  });

  it("a worker that reports itself blocked is kept blocked, not retried; its dependents are blocked too", () => {
    const result = run({ issues: { 10: [], 11: [], 12: [10] }, scripts: { 10: { attempts: ["blocked"] } } });
    expect(statuses(result)).toEqual({ 10: "blocked", 11: "merged", 12: "blocked" });
    expect(eventsOf(result.events, "Blocked")[0]).toMatchObject({ issue: 10, by: { kind: "worker" }, reason: "the worker is blocked: needs a database password" });
    expect(eventsOf(result.events, "Retried")).toEqual([]);
  });

  it("a rate limit is a state, not a failure: the same prompt starts again after it, no attempt burned", () => {
    const result = run({ issues: { 10: [] }, settings: { maxAttempts: 1 }, scripts: { 10: { attempts: ["rate-limited"] } } });
    const limited = eventsOf(result.events, "RateLimited")[0];
    const relaunch = eventsOf(result.events, "Launched")[1];
    expect(relaunch?.prompt).toEqual({ kind: "implementer" });
    expect(Date.parse(relaunch?.at ?? "")).toBeGreaterThanOrEqual(Date.parse(limited?.until ?? ""));
    // The report counts attempts as the README does: the run the limit stopped and its relaunch are one attempt.
    expect(reportRows(result.state)[0]).toMatchObject({ attempts: 1, failedAttempts: 0, status: "merged" });
  });

  it("a lost worker counts as a failed attempt, its instance is warmed again, and it is relaunched", () => {
    const result = run({ issues: { 10: [] }, scripts: { 10: { attempts: ["lost"] } } });
    const types = result.events.filter((e) => "issue" in e && e.issue === 10).map((e) => e.type);
    expect(types.slice(0, 6)).toEqual(["Warmed", "Launched", "WorkerLost", "Retried", "Warmed", "Launched"]);
    expect(statuses(result)).toEqual({ 10: "merged" });
  });

  it("a failed verify sends the retry template with the command and its output tail", () => {
    const result = run({ issues: { 10: [] }, scripts: { 10: { verify: ["fail"] } } });
    expect(eventsOf(result.events, "Retried")[0]?.failure).toEqual({ kind: "verify", summary: "npm test exited 1", command: "npm test", output: "1 test failed" });
    const verified = eventsOf(result.events, "Verified")[0];
    expect(eventsOf(result.events, "Merged")[0]?.headSha).toBe(verified?.headSha);
  });

  it("with review on, the same worker reviews the verified head before it may merge", () => {
    const result = run({ issues: { 10: [] }, settings: { review: true } });
    const order = result.events.filter((e) => ["Verified", "ReviewRequested", "Launched", "Reviewed", "Merged"].includes(e.type)).map((e) => e.type);
    expect(order).toEqual(["Launched", "Verified", "ReviewRequested", "Launched", "Reviewed", "Merged"]);
    expect(eventsOf(result.events, "Launched")[1]?.why).toBe("review");
  });

  it("a pull request the forge calls conflicting gets a rebase onto the feature branch", () => {
    const result = run({ issues: { 10: [] }, scripts: { 10: { checks: ["conflicting"] } } });
    expect(eventsOf(result.events, "RebaseRequested")[0]?.prompt).toEqual({
      kind: "rebase",
      onto: FEATURE,
      ontoSha: null,
      from: null,
      paths: ["src/shared.ts"],
      cause: "pull-request-conflict",
    });
    expect(statuses(result)).toEqual({ 10: "merged" });
  });

  it("pending checks are asked about again after the poll interval", () => {
    const result = run({ issues: { 10: [] }, scripts: { 10: { checks: ["pending", "pending"] } } });
    const checks = eventsOf(result.events, "PullRequestChecked");
    expect(checks.map((event) => event.checks)).toEqual(["pending", "pending", "success"]);
    expect(Date.parse(checks[1]?.at ?? "") - Date.parse(checks[0]?.at ?? "")).toBeGreaterThanOrEqual(15_000);
  });

  it("workers on two hosts: every issue merges, and no host ever runs more agents than its slots", () => {
    const hosts: Record<number, string> = { 10: "local", 11: "local", 12: "local", 13: "big", 14: "big" };
    const result = run({
      issues: { 10: [], 11: [], 12: [], 13: [], 14: [] },
      settings: { maxParallel: 4, hostSlots: { local: 1, big: 2 } },
      scripts: Object.fromEntries(Object.entries(hosts).map(([n, host]) => [n, { host, attempts: n === "13" ? (["failure"] as const) : [] }])),
    });
    expect(statuses(result)).toEqual({ 10: "merged", 11: "merged", 12: "merged", 13: "merged", 14: "merged" });
    const running = new Map<string, number>();
    let most: Record<string, number> = { local: 0, big: 0 };
    for (const event of result.events) {
      const issue = "issue" in event && typeof event.issue === "number" ? event.issue : null;
      const host = issue === null ? undefined : hosts[issue];
      if (host === undefined) continue;
      if (event.type === "Launched") running.set(host, (running.get(host) ?? 0) + 1);
      if (event.type === "Reported") running.set(host, (running.get(host) ?? 0) - 1);
      most = { ...most, [host]: Math.max(most[host] ?? 0, running.get(host) ?? 0) };
    }
    expect(most).toEqual({ local: 1, big: 2 });
  });

  it("workers on two hosts: issues held by a full host move to the other's free slots, and every issue merges within the slots", () => {
    const result = run({
      issues: { 10: [], 11: [], 12: [], 13: [] },
      settings: { maxParallel: 4, hostSlots: { local: 1, big: 3 } },
      // Everything was made here; 13's move fails, so it waits for the slot here.
      scripts: { 10: { host: "local" }, 11: { host: "local" }, 12: { host: "local" }, 13: { host: "local", move: "fail" } },
    });
    expect(statuses(result)).toEqual({ 10: "merged", 11: "merged", 12: "merged", 13: "merged" });
    const hostOf = new Map<number, string>();
    const running = new Map<string, number>();
    const most = new Map<string, number>();
    const launchedOn = new Map<number, string>();
    for (const event of result.events) {
      if (event.type === "Warmed" && event.host !== undefined) hostOf.set(event.issue, event.host);
      if (event.type === "Launched") {
        const host = hostOf.get(event.issue) ?? "";
        launchedOn.set(event.issue, host);
        running.set(host, (running.get(host) ?? 0) + 1);
        most.set(host, Math.max(most.get(host) ?? 0, running.get(host) ?? 0));
      }
      if (event.type === "Reported") running.set(launchedOn.get(event.issue) ?? "", (running.get(launchedOn.get(event.issue) ?? "") ?? 0) - 1);
    }
    expect(Object.fromEntries(launchedOn)).toEqual({ 10: "local", 11: "big", 12: "big", 13: "local" });
    expect(Object.fromEntries(most)).toEqual({ local: 1, big: 2 });
    expect(eventsOf(result.events, "NotMoved").map((event) => [event.issue, event.to])).toEqual([[13, "big"]]);
  });

  it("an issue closed before the run counts as merged; an open one outside the run blocks its dependents", () => {
    const closed = run({ issues: { 9: [], 10: [9] }, selected: [10], closed: [9] });
    expect(statuses(closed)).toEqual({ 10: "merged" });
    const open = run({ issues: { 9: [], 10: [9], 11: [] }, selected: [10, 11] });
    expect(statuses(open)).toEqual({ 10: "blocked", 11: "merged" });
  });
});

describe("stopping the coordinator at any point and replaying its log", () => {
  const plan: SimulationPlan = { issues: { 10: [], 12: [10], 14: [12] }, settings: { maxParallel: 3 } };
  const { events } = simulate(plan);
  const cutAt = (type: CoordinatorEventType, issue: number): CoordinatorEvent[] =>
    events.slice(0, indexOf(events, (event) => event.type === type && "issue" in event && event.issue === issue) + 1);
  const later = SIMULATION_START + 3_600_000;

  it("between the merge record and the merge, the merge is finished with the recorded head", () => {
    const state = replay(cutAt("MergeReady", 10));
    const merge = decide(state, later).filter((action) => action.type === "Merge");
    expect(merge).toEqual([{ type: "Merge", issue: 10, pr: 110, headSha: state.issues[10]?.merge?.headSha, title: "Issue 10", stacked: state.issues[10]?.merge?.stacked, verified: null }]);
  });

  it("between the merge and the restack, the restack comes next and the merged branch stays", () => {
    const actions = decide(replay(cutAt("Merged", 10)), later);
    expect(actions.map((action) => action.type)).toContain("Restack");
    expect(actions.map((action) => action.type)).not.toContain("DeleteBranch");
    expect(actions.filter((action) => action.type === "Merge")).toEqual([]);
  });

  it("mid-launch (asked for, not recorded), the same attempt is asked for again, never a second one", () => {
    const beforeLaunch = events.slice(0, indexOf(events, (event) => event.type === "Launched" && event.issue === 12));
    const launches = decide(replay(beforeLaunch), later).filter((action) => action.type === "Launch");
    expect(launches).toEqual([expect.objectContaining({ issue: 12, attempt: 1 })]);
    const afterLaunch = cutAt("Launched", 12);
    expect(decide(replay(afterLaunch), later).filter((action) => action.type === "Launch" && action.issue === 12)).toEqual([]);
  });

  it("a report delivered twice (replayed outbox) is counted once", () => {
    const report = eventsOf(events, "Reported")[0];
    if (report === undefined) throw new Error("no report");
    const twice = [...events.slice(0, events.indexOf(report) + 1), report, ...events.slice(events.indexOf(report) + 1)];
    expect(replay(twice)).toEqual(replay(events));
  });
});
