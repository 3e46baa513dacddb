import { decodeEvent } from "../../core/coordinator/codec.ts";
import { replayLog } from "../../core/coordinator/log.ts";
import { apply, type CoordinatorState } from "../../core/coordinator/state.ts";
import { followEvents } from "../../core/coordinator-store/follow.ts";
import type { EventStore, StoredEvent } from "../../core/coordinator-store/port.ts";
import { dashboardModel } from "../../core/dashboard/build.ts";
import { UserError } from "../../core/errors.ts";
import { openProject } from "../project.ts";
import type { RecentEvent, WatchFrame, WatchOptions } from "./watch-types.ts";
import { recentWorkerEvents, WorkerLines } from "./worker-lines.ts";

/**
 * A live view's frames, from the run's event log: the log is replayed, then
 * followed (polled: the coordinator is another process), and a frame is
 * yielded after each batch of events, and once a second while nothing comes,
 * so the elapsed time ticks and the workers' last lines stay fresh. Works
 * while the coordinator runs and after it ended, from any terminal.
 * Ends after the frame whose model says the run ended, or when
 * `options.signal` aborts; at once, with no frame, when the project never
 * ran a coordinator (a view says so, as `cspace status` does). A run named
 * by `runId` that does not exist is a UserError.
 */

/** How often a frame comes while the log is quiet. */
export const TICK_MS = 1_000;

export async function* watchRun(options: WatchOptions): AsyncGenerator<WatchFrame, void, undefined> {
  const project = await openProject(options);
  const [store, lock] = await Promise.all([project.ports.eventStore(), project.ports.coordinatorLock()]);
  try {
    const runId = await chosenRun(store, options.runId);
    if (runId === null) return;
    const rows = await store.read(runId);
    let state = replayLog(rows).state;
    const lines = new WorkerLines(project.runDir);
    const frame = async (batch: readonly StoredEvent[] = []): Promise<WatchFrame> => {
      const model = dashboardModel(state, new Date().toISOString());
      const started = Object.values(state.issues).filter((record) => record.attempts.length > 0).map((record) => record.number);
      const [lastLines, holder] = await Promise.all([lines.lastLines(started), lock.holder()]);
      return { model, lastLines, coordinatorAlive: holder !== undefined && state.finished === null, notified: notificationsIn(batch) };
    };
    let current = await frame();
    yield current;
    if (current.model.ended) return;
    // Only this run's events are read, so a run with none yet is followed from the start.
    const after = rows.at(-1)?.seq ?? 0;
    for await (const batch of followEvents(store, { after, runId, signal: options.signal, heartbeatMs: TICK_MS })) {
      state = folded(state, batch);
      current = await frame(batch);
      yield current;
      if (current.model.ended) return;
    }
  } finally {
    await store.close();
  }
}

/**
 * The selected worker's recent events for the `enter` panel, oldest first,
 * safe for a terminal (a worker wrote them). Empty before its first launch.
 * The instance's files are the project's, whichever run launched it: `runId`
 * is accepted and not needed.
 */
export async function recentEvents(options: Omit<WatchOptions, "signal">, issue: number, limit = 20): Promise<RecentEvent[]> {
  if (!Number.isSafeInteger(issue) || issue < 1) throw new UserError(`there is no issue ${String(issue)}: an issue number is a positive integer`);
  const project = await openProject(options);
  return recentWorkerEvents(project.runDir, issue, Math.max(1, limit));
}

/** The named run, or the latest (null: there is none); a UserError saying what there is when the named one does not exist. */
async function chosenRun(store: EventStore, runId: string | undefined): Promise<string | null> {
  if (runId === undefined) return (await store.latestRun())?.runId ?? null;
  const runs = await store.runs();
  if (runs.some((run) => run.runId === runId)) return runId;
  const known = runs.slice(-5).map((run) => run.runId);
  throw new UserError(`there is no run ${runId} in this project`, {
    hint: known.length === 0 ? "cspace coordinate <issues…> starts one" : `its latest runs: ${known.join(", ")} (cspace status shows the latest)`,
  });
}

/** The `Notified` events of a batch, as the terminal rings them; an event that cannot be read is left out. */
function notificationsIn(batch: readonly StoredEvent[]): { issue: number | null; reason: string }[] {
  return batch.flatMap((row) => {
    if (row.type !== "Notified") return [];
    try {
      const event = decodeEvent(row);
      return event.type === "Notified" ? [{ issue: event.issue, reason: event.reason }] : [];
    } catch {
      return [];
    }
  });
}

/** The state after a batch; an event that cannot be applied is skipped, as `cspace status` skips it (log.ts). */
function folded(state: CoordinatorState, batch: readonly StoredEvent[]): CoordinatorState {
  let next = state;
  for (const row of batch) {
    try {
      next = apply(next, decodeEvent(row));
    } catch {
      // `cspace status` names it by its sequence number; the live view shows the rest of the run.
    }
  }
  return next;
}
