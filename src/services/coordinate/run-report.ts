import path from "node:path";
import { replayLog } from "../../core/coordinator/log.ts";
import { runReport, type RunReport } from "../../core/coordinator/report.ts";
import { UserError } from "../../core/errors.ts";
import { openProject, type PortOverrides } from "../project.ts";
import { withEgressDenials } from "./egress-report.ts";

export interface RunReportOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** The run's id (`cspace report --run`); the latest run when absent. */
  readonly runId?: string | undefined;
  readonly ports?: PortOverrides | undefined;
}

export interface RunReportResult {
  /** Null when the project never ran a coordinator (and no run was named). */
  readonly report: RunReport | null;
  /** Where the run's markdown report is (written when the run ended); null when there is no run. */
  readonly reportFile: string | null;
}

/** How many recent run ids an unknown `--run` lists. */
const RECENT_RUNS = 5;

/**
 * `cspace report`: a run's report made again from its event log, with the
 * time each issue spent where and the after-action review, for the latest run
 * or the one named. Reads the log only: no engine, forge or lock.
 */
export async function loadRunReport(options: RunReportOptions): Promise<RunReportResult> {
  const project = await openProject({ cwd: options.cwd, env: options.env, ports: options.ports });
  const store = await project.ports.eventStore();
  try {
    const runs = await store.runs();
    const run = options.runId === undefined ? runs[runs.length - 1] : runs.find((r) => r.runId === options.runId);
    if (run === undefined) {
      if (options.runId === undefined) return { report: null, reportFile: null };
      const recent = runs.slice(-RECENT_RUNS).reverse().map((r) => r.runId);
      throw new UserError(`there is no run ${options.runId} in this project`, {
        hint: recent.length === 0 ? "no run yet: cspace coordinate <issues…> starts one" : `recent runs, newest first: ${recent.join(", ")}`,
      });
    }
    const { state, problems, events } = replayLog(await store.read(run.runId));
    const report = await withEgressDenials(project, runReport(state, problems, events));
    return { report, reportFile: path.join(project.runDir, "runs", run.runId, "report.md") };
  } finally {
    await store.close();
  }
}
