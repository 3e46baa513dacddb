import { needsYou } from "../../core/coordinator/needs-you.ts";
import { replayLog } from "../../core/coordinator/log.ts";
import { runReport } from "../../core/coordinator/report.ts";
import type { CoordinatorState } from "../../core/coordinator/state.ts";
import { statusOf } from "../../core/coordinator/status.ts";
import type { DashboardModel, DashboardRow, RowGroup } from "../../core/dashboard/model.ts";
import type { IssueStatusKind } from "../../core/coordinator/state.ts";
import { openProject } from "../project.ts";
import type { RecentEvent, WatchFrame, WatchOptions } from "./watch-types.ts";

/**
 * TEMPORARY (helper 7's branch only): a minimal follower with the signatures
 * helper 1 writes for real (watchRun, recentEvents), so the dashboard's
 * wiring type-checks and runs before that lands. It polls the event log every
 * half second and builds a crude model; the merge takes helper 1's file.
 */

const POLL_MS = 500;

export async function* watchRun(options: WatchOptions): AsyncIterable<WatchFrame> {
  const project = await openProject({ cwd: options.cwd, env: options.env });
  const [store, lock] = await Promise.all([project.ports.eventStore(), project.ports.coordinatorLock()]);
  try {
    let last = "";
    while (!options.signal.aborted) {
      const runId = options.runId ?? (await store.latestRun())?.runId;
      if (runId !== undefined) {
        const { state } = replayLog(await store.read(runId));
        const frame: WatchFrame = { model: crudeModel(state), lastLines: new Map(), coordinatorAlive: (await lock.holder()) !== undefined };
        const key = JSON.stringify({ ...frame, lastLines: [] });
        if (key !== last) {
          last = key;
          yield frame;
        }
        if (frame.model.ended) return;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, POLL_MS);
        options.signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
      });
    }
  } finally {
    await store.close();
  }
}

export async function recentEvents(options: Omit<WatchOptions, "signal">, issue: number, limit: number): Promise<readonly RecentEvent[]> {
  const project = await openProject({ cwd: options.cwd, env: options.env });
  const store = await project.ports.eventStore();
  try {
    const runId = options.runId ?? (await store.latestRun())?.runId;
    if (runId === undefined) return [];
    const events = (await store.read(runId)).filter((event) => typeof event.data === "object" && event.data !== null && !Array.isArray(event.data) && (event.data as Record<string, unknown>).issue === issue);
    return events.slice(-limit).map((event) => ({ at: event.at, text: event.type }));
  } finally {
    await store.close();
  }
}

function groupOf(kind: IssueStatusKind): RowGroup {
  if (kind === "merged" || kind === "failed" || kind === "blocked") return kind;
  return kind === "waiting" || kind === "ready" || kind === "rate-limited" ? "waiting" : "working";
}

function crudeModel(state: CoordinatorState): DashboardModel {
  const report = runReport(state);
  const now = Date.parse(state.lastEventAt ?? new Date().toISOString());
  const rows: DashboardRow[] = report.rows.map((row) => {
    const record = state.issues[row.issue];
    const status = record === undefined ? { kind: row.status, reason: row.reason } : statusOf(state, record);
    return {
      issue: row.issue,
      title: row.title,
      depth: 0,
      kind: status.kind,
      group: groupOf(status.kind),
      state: status.reason === "" ? status.kind : status.reason,
      attempt: row.attempts,
      turns: row.turns,
      costUsd: row.costUsd,
      elapsedMs: row.wallMs,
      pullRequest: row.pullRequest,
      pullRequestUrl: row.pullRequestUrl,
      needsYou: false,
    };
  });
  const count = (group: RowGroup): number => rows.filter((r) => r.group === group).length;
  return {
    runId: report.runId,
    featureBranch: report.featureBranch,
    header: {
      counts: { merged: count("merged"), working: count("working"), waiting: count("waiting"), failed: count("failed"), blocked: count("blocked") },
      spentUsd: report.totals.costUsd ?? 0,
      budgetUsd: null,
      elapsedMs: report.startedAt === null ? 0 : now - Date.parse(report.startedAt),
      remainingMs: null,
      estimate: "not estimated (temporary follower)",
      paused: report.paused,
      held: report.parked === null ? report.overBudget : `usage limit until ${report.parked.until}`,
    },
    needsYou: needsYou(state),
    rows,
    ended: state.finished !== null,
  };
}
