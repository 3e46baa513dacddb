import { describe, expect, it } from "vitest";
import { FakeEventStore } from "../../../test/fakes/event-store.ts";
import { replayLog } from "../../core/coordinator/log.ts";
import { simulate } from "../../core/coordinator/simulate.ts";
import { initialState } from "../../core/coordinator/state.ts";
import type { CoordinatorProgress } from "../../core/coordinator-runtime/progress.ts";
import { notifiedCauses, type Notification } from "../../core/notify/notification.ts";
import { Notifier } from "./notifier.ts";

/** A simulated run with a failing issue, fed to a notifier as a coordinator's progress. */
async function notify(deliver: (n: Notification) => Promise<void>): Promise<{ store: FakeEventStore; runId: string; seen: CoordinatorProgress[] }> {
  const store = new FakeEventStore();
  const runId = await store.startRun({});
  const seen: CoordinatorProgress[] = [];
  const notifier = new Notifier({ store, runId, state: initialState(), notified: new Set(), deliver, onProgress: (p) => seen.push(p) });
  const { events, state } = simulate({ issues: { 10: [], 11: [] }, settings: { maxAttempts: 1 }, scripts: { 10: { attempts: ["crash"] } } });
  for (const [index, event] of events.entries()) notifier.listener({ kind: "event", seq: index + 1, event });
  await notifier.finish(state);
  return { store, runId, seen };
}

describe("the run's notifier", () => {
  it("records each notification in the log, shows it to the views, then delivers it, in order", async () => {
    const delivered: string[] = [];
    const { store, runId, seen } = await notify((n) => {
      delivered.push(n.cause);
      return Promise.resolve();
    });
    expect(delivered).toEqual(["failed:10:1", "run-finished"]);
    const { events } = replayLog(await store.read(runId));
    expect([...notifiedCauses(events)]).toEqual(["failed:10:1", "run-finished"]);
    const shown = seen.flatMap((p) => (p.kind === "event" && p.event.type === "Notified" ? [p.event.cause] : []));
    expect(shown).toEqual(["failed:10:1", "run-finished"]);
  });

  it("a command that fails is a notice: the run and the next notifications go on", async () => {
    const { seen, store, runId } = await notify(() => Promise.reject(new Error("it exited 7")));
    const notices = seen.flatMap((p) => (p.kind === "notice" ? [p.text] : []));
    expect(notices).toEqual(["notify.command failed for failed:10:1: it exited 7", "notify.command failed for run-finished: it exited 7"]);
    expect([...notifiedCauses(replayLog(await store.read(runId)).events)]).toEqual(["failed:10:1", "run-finished"]);
  });

  it("sends nothing the log says was sent (a resume of the same run)", async () => {
    const { store, runId } = await notify(() => Promise.resolve());
    const { state, events } = replayLog(await store.read(runId));
    const delivered: string[] = [];
    const again = new Notifier({ store, runId, state, notified: notifiedCauses(events), deliver: (n) => { delivered.push(n.cause); return Promise.resolve(); } });
    again.check();
    await again.finish(state);
    expect(delivered).toEqual([]);
  });
});
