import { describe, expect, it } from "vitest";
import type { CoordinatorEvent } from "../coordinator/events.ts";
import { simulate, type SimulationPlan } from "../coordinator/simulate.ts";
import { apply, initialState, type CoordinatorState } from "../coordinator/state.ts";
import { dueNotifications, notifiedCauses, plainLine, type Notification } from "./notification.ts";

/** What a notifier sends over a run: after each event, what is due and not sent yet (as services/coordinate/notifier.ts). */
function sentOver(events: readonly CoordinatorEvent[], already: ReadonlySet<string> = new Set()): Notification[] {
  const notified = new Set(already);
  const sent: Notification[] = [];
  let state: CoordinatorState = initialState();
  for (const event of events) {
    state = apply(state, event);
    for (const notification of dueNotifications(state, notified, event.at)) {
      notified.add(notification.cause);
      sent.push(notification);
    }
  }
  return sent;
}

function run(plan: SimulationPlan): readonly CoordinatorEvent[] {
  const result = simulate(plan);
  expect(result.finished).toBe(true);
  return result.events;
}

describe("notifications: once per cause, never for routine progress", () => {
  it("a clean run sends one notification, its end", () => {
    const sent = sentOver(run({ issues: { 10: [], 11: [10] } }));
    expect(sent.map((n) => [n.kind, n.cause, n.reason])).toEqual([["run-finished", "run-finished", "run sim finished: 2 merged, 0 failed, 0 blocked (exit 0)"]]);
  });

  it("a failed issue and an issue its agent gave up on are each sent once, then the end", () => {
    const sent = sentOver(run({ issues: { 10: [], 11: [], 12: [] }, settings: { maxAttempts: 1 }, scripts: { 10: { attempts: ["crash"] }, 11: { attempts: ["blocked"] } } }));
    expect(sent.map((n) => [n.kind, n.issue, n.cause])).toEqual([
      ["failed", 10, "failed:10:1"],
      ["blocked-by-worker", 11, "blocked-by-worker:11:1"],
      ["run-finished", null, "run-finished"],
    ]);
    expect(sent[1]?.reason).toContain("needs a database password");
    expect(sent.every((n) => n.runId === "sim")).toBe(true);
  });

  it("what the log says was sent is not sent again (a resume)", () => {
    const events = run({ issues: { 10: [] }, settings: { maxAttempts: 1 }, scripts: { 10: { attempts: ["crash"] } } });
    const first = sentOver(events);
    expect(first).toHaveLength(2);
    const log: CoordinatorEvent[] = [...events, ...first.map((n): CoordinatorEvent => ({ type: "Notified", at: n.at, cause: n.cause, kind: n.kind, issue: n.issue, reason: n.reason }))];
    const causes = notifiedCauses(log);
    expect([...causes]).toEqual(["failed:10:1", "run-finished"]);
    expect(sentOver(log, causes)).toEqual([]);
  });

  it("carries a worker's words as one plain line: no control characters, bounded", () => {
    expect(plainLine("stop\u001b]9;forged\u0007 here\u009c\nnext")).toBe("stop ]9;forged here next");
    expect(plainLine("x".repeat(400))).toHaveLength(300);
  });
});
