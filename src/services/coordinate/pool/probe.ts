import type { Liveness } from "../../../core/coordinator-runtime/ports.ts";
import type { ContainerPresence } from "../../workers/agent-state.ts";
import { probeAgent } from "../../workers/probe.ts";
import { containerOf, pathsOf, type PoolContext } from "./context.ts";
import { HostUnreachableError } from "./remote-workers.ts";

const SUPERVISOR_ANSWER_MS = 5_000;


/** The container's state plus the supervisor's answer (or its last state.json), as `cspace list` derives it. */
export async function livenessOf(context: PoolContext, instance: string, now: () => number = Date.now): Promise<Liveness> {
  let container: Awaited<ReturnType<typeof containerOf>>;
  try {
    container = await containerOf(context, instance);
  } catch (error) {
    if (!(error instanceof HostUnreachableError)) throw error;
    // workers.lostAfterSeconds: long enough for sshd to come back or a link to recover, while the relay holds what is sent.
    return now() - error.since >= context.project.config.workers.lostAfterSeconds * 1000 ? "lost" : "working";
  }
  const presence: ContainerPresence = container === null ? "missing" : container.state === "running" ? "running" : "stopped";
  const view = await probeAgent(pathsOf(context, instance), presence, SUPERVISOR_ANSWER_MS);
  switch (view.state) {
    case "starting":
    case "working":
    case "idle":
      return "working";
    case "exited":
      return "exited";
    case "lost":
      return "lost";
    case "none":
      // A container that is gone has nothing running in it, whatever was recorded.
      return container === null ? "lost" : "none";
  }
}
