import { readUntrustedText, UNTRUSTED_LIMITS } from "../../adapters/fs/untrusted-dir.ts";
import { INSTANCE_FILES } from "../../core/messaging/layout.ts";
import type { WorkerStatus } from "../../core/agents/worker-status.ts";
import { agentView, type AgentView, type ContainerPresence } from "./agent-state.ts";
import { lastEventTime } from "./events.ts";
import type { InstancePaths } from "./instance-files.ts";
import { askStatus } from "./supervisor-client.ts";

/** state.json as the supervisor last wrote it; null when there is none (or it cannot be read). */
export async function readRecordedStatus(paths: InstancePaths): Promise<WorkerStatus | null> {
  try {
    const text = await readUntrustedText(paths.dir, INSTANCE_FILES.state, UNTRUSTED_LIMITS.record);
    if (text === null) return null;
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null) return null;
    const fields = value as Partial<WorkerStatus>;
    return typeof fields.state === "string" && typeof fields.instance === "string" ? (value as WorkerStatus) : null;
  } catch {
    return null;
  }
}

/**
 * The agent's state as the host sees it. The supervisor is asked only while
 * the container runs (a stopped container's supervisor is gone, and asking
 * would only cost the timeout).
 */
export async function probeAgent(paths: InstancePaths, container: ContainerPresence, timeoutMs: number): Promise<AgentView> {
  const [live, recorded, lastEventAt] = await Promise.all([
    container === "running" ? askStatus(paths, timeoutMs) : Promise.resolve(null),
    readRecordedStatus(paths),
    lastEventTime(paths),
  ]);
  return agentView({ container, live, recorded, lastEventAt });
}
