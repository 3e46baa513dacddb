import { decodeEvent } from "../../core/coordinator/codec.ts";
import { runReport, type RunReport } from "../../core/coordinator/report.ts";
import { replay } from "../../core/coordinator/state.ts";
import type { CoordinatorHolder } from "../../core/coordinator-store/port.ts";
import { openProject, type PortOverrides } from "../project.ts";
import { withEgressDenials } from "./coordinate.ts";

export interface RunStatus {
  /** Null when the project never ran a coordinator. */
  readonly report: RunReport | null;
  /** The coordinator running now, if any. */
  readonly holder: CoordinatorHolder | null;
}

/**
 * `cspace status` without an instance: the latest run's table, folded from the
 * event log, from any terminal, while the coordinator runs or after it ended.
 */
export async function runStatus(options: { cwd: string; env: NodeJS.ProcessEnv; ports?: PortOverrides | undefined }): Promise<RunStatus> {
  const project = await openProject(options);
  const [store, lock] = await Promise.all([project.ports.eventStore(), project.ports.coordinatorLock()]);
  try {
    const [latest, holder] = await Promise.all([store.latestRun(), lock.holder()]);
    if (latest === undefined) return { report: null, holder: holder ?? null };
    const state = replay((await store.read(latest.runId)).map(decodeEvent));
    return { report: await withEgressDenials(project, runReport(state)), holder: holder ?? null };
  } finally {
    await store.close();
  }
}
