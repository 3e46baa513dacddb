import { BadReplyError, MessagingError } from "../../../adapters/messaging/errors.ts";
import { ExternalError } from "../../../core/errors.ts";
import { readLaunch, stopTimeoutMs } from "../../workers/launch-file.ts";
import { askWorker } from "../../workers/supervisor-client.ts";
import { pathsOf, type PoolContext } from "./context.ts";

/**
 * Stops the agent's current run through its supervisor, as `cspace
 * interrupt` does. No supervisor, or no agent running, is already the wanted
 * state: the agent of an issue the operator skipped is not working on it.
 */
export async function interruptIn(context: PoolContext, instance: string): Promise<void> {
  const paths = pathsOf(context, instance);
  const launch = await readLaunch(paths).catch(() => null);
  try {
    const reply = await askWorker(paths, "interrupt", { from: "_coordinator" }, stopTimeoutMs(launch));
    if (!reply.ok && reply.error.code !== "not-running") {
      throw new ExternalError(`${instance}'s supervisor refused the interrupt: ${reply.error.message} (${reply.error.code})`);
    }
  } catch (error) {
    // A broken answer is said (the runtime shows it as a notice); nobody there is already the wanted state.
    if (error instanceof MessagingError && !(error instanceof BadReplyError)) return;
    throw error;
  }
}
