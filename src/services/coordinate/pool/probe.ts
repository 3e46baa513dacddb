import type { Liveness } from "../../../core/coordinator-runtime/ports.ts";
import type { ContainerPresence } from "../../workers/agent-state.ts";
import { probeAgent } from "../../workers/probe.ts";
import { containerOf, pathsOf, type PoolContext } from "./context.ts";

const SUPERVISOR_ANSWER_MS = 5_000;

/** The container's state plus the supervisor's answer (or its last state.json), as `cspace list` derives it. */
export async function livenessOf(context: PoolContext, instance: string): Promise<Liveness> {
  const container = await containerOf(context, instance);
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
