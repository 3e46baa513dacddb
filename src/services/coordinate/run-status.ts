import { replayLog } from "../../core/coordinator/log.ts";
import { runReport, type RunReport } from "../../core/coordinator/report.ts";
import type { CoordinatorHolder } from "../../core/coordinator-store/port.ts";
import { openProject, type PortOverrides } from "../project.ts";
import { withEgressDenials } from "./egress-report.ts";

export interface RunStatus {
  /** Null when the project never ran a coordinator. */
  readonly report: RunReport | null;
  /** The coordinator running now, if any. */
  readonly holder: CoordinatorHolder | null;
}

/**
 * `cspace status` without an instance: the latest run's table, folded from the
 * event log, from any terminal, while the coordinator runs or after it ended.
 * An event that cannot be applied does not stop it: the report names it by
 * its sequence number (`problems`), with the way out.
 */
export async function runStatus(options: { cwd: string; env: NodeJS.ProcessEnv; ports?: PortOverrides | undefined }): Promise<RunStatus> {
  const project = await openProject(options);
  const [store, lock] = await Promise.all([project.ports.eventStore(), project.ports.coordinatorLock()]);
  try {
    const [latest, holder] = await Promise.all([store.latestRun(), lock.holder()]);
    if (latest === undefined) return { report: null, holder: holder ?? null };
    const { state, problems, events } = replayLog(await store.read(latest.runId));
    // With the events: each row's time split so far, as the final report has them.
    return { report: await withEgressDenials(project, runReport(state, problems, events)), holder: holder ?? null };
  } finally {
    await store.close();
  }
}
