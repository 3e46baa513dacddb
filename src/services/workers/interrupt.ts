import { BadReplyError, MessagingError, RequestTimeoutError } from "../../adapters/messaging/errors.ts";
import type { ReportOutcome } from "../../core/agents/worker-status.ts";
import { ExternalError } from "../../core/errors.ts";
import { validateInstanceName } from "../../core/instances/names.ts";
import { openProject } from "../project.ts";
import { instancePaths } from "./instance-files.ts";
import { readLaunch, stopTimeoutMs } from "./launch-file.ts";
import { askWorker } from "./supervisor-client.ts";
import { withWorkerPaths } from "./worker-paths.ts";

export interface InterruptResult {
  readonly instance: string;
  /** False when no agent was running (nothing to stop: repeating an interrupt is safe). */
  readonly interrupted: boolean;
  readonly reportId: string | null;
  readonly outcome: ReportOutcome | null;
  /** The supervisor's reason when there was nothing to interrupt. */
  readonly note: string | null;
}

/**
 * `cspace interrupt`: stops the agent's current run (SIGINT, then SIGTERM,
 * then SIGKILL, as the supervisor escalates); its report is written before
 * the reply. The supervisor stays: queued messages and `send` start the
 * agent again.
 */
export async function interruptAgent(options: { cwd: string; env: NodeJS.ProcessEnv; instance: string }): Promise<InterruptResult> {
  const instance = validateInstanceName(options.instance);
  const project = await openProject(options);
  const paths = instancePaths(project.runDir, instance);
  const launch = await readLaunch(paths).catch(() => null);
  let reply;
  try {
    reply = await withWorkerPaths(project, instance, { files: false }, (reached) => askWorker(reached, "interrupt", {}, stopTimeoutMs(launch)));
  } catch (error) {
    if (error instanceof BadReplyError || error instanceof RequestTimeoutError) throw error;
    if (error instanceof MessagingError) {
      throw new ExternalError(`no supervisor is running for instance "${instance}": ${error.message}`, {
        hint: `cspace list shows its state; cspace restart ${instance} starts its agent again`,
        cause: error,
      });
    }
    throw error;
  }
  if (!reply.ok) {
    if (reply.error.code === "not-running") return { instance, interrupted: false, reportId: null, outcome: null, note: reply.error.message };
    throw new ExternalError(`${instance}'s supervisor refused the interrupt: ${reply.error.message} (${reply.error.code})`);
  }
  return { instance, interrupted: true, reportId: reply.reportId, outcome: reply.outcome, note: null };
}
