import { replayLog } from "../../core/coordinator/log.ts";
import { predictionHold } from "../../core/coordinator/predictions.ts";
import { isMerged } from "../../core/coordinator/queries.ts";
import type { OpenedProject } from "../project.ts";

/** What a coordinator run that has not ended has done on a feature branch, as `cspace plan` shows it. */
export interface RunUnderWay {
  /** Issues it started and that have not ended, merged or been held back: their branches are bases. */
  readonly launched: ReadonlySet<number>;
  readonly merged: ReadonlySet<number>;
  /** Issues it holds back because they will conflict with a branch merging before them. */
  readonly held: ReadonlyMap<number, { readonly reason: string; readonly on: number }>;
}

/**
 * The project's latest run, when it has not ended (running, or stopped and
 * waiting for `--resume`) and merges into `featureBranch`: otherwise null, and
 * the plan starts from nothing launched. Reads only: a project that never ran
 * a coordinator gets no event store file.
 */
export async function runUnderWay(project: OpenedProject, featureBranch: string): Promise<RunUnderWay | null> {
  const store = await project.ports.eventStore();
  try {
    const latest = await store.latestRun();
    if (latest === undefined) return null;
    const { state } = replayLog(await store.read(latest.runId));
    if (state.finished !== null || state.run?.settings.featureBranch !== featureBranch) return null;
    const records = Object.values(state.issues);
    const held = new Map<number, { reason: string; on: number }>();
    for (const record of records) {
      const hold = predictionHold(state, record);
      if (hold !== null) held.set(record.number, hold);
    }
    return {
      // A held issue has worked before (a retry pending): it waits now, and the plan says why.
      launched: new Set(records.filter((record) => record.attempts.length > 0 && record.outcome === null && !isMerged(record) && !held.has(record.number)).map((record) => record.number)),
      merged: new Set(records.filter(isMerged).map((record) => record.number)),
      held,
    };
  } finally {
    await store.close();
  }
}
