import { readUntrustedText, UNTRUSTED_LIMITS } from "../../adapters/fs/untrusted-dir.ts";
import { INSTANCE_FILES } from "../../core/messaging/layout.ts";
import { BadReplyError } from "../../adapters/messaging/errors.ts";
import type { WorkerStatus } from "../../core/agents/worker-status.ts";
import { checkRecordedStatus } from "../../core/messaging/worker-replies.ts";
import { agentView, type AgentView, type ContainerPresence } from "./agent-state.ts";
import { lastEventTime } from "./events.ts";
import type { InstancePaths } from "./instance-files.ts";
import { askStatus } from "./supervisor-client.ts";

/** state.json as the supervisor last wrote it; null when there is none (or it cannot be read). */
export async function readRecordedStatus(paths: InstancePaths): Promise<WorkerStatus | null> {
  try {
    const text = await readUntrustedText(paths.dir, INSTANCE_FILES.state, UNTRUSTED_LIMITS.record);
    if (text === null) return null;
    // The container can write it: a file of the wrong shape is no record at all.
    return checkRecordedStatus(JSON.parse(text));
  } catch {
    return null;
  }
}

/**
 * The agent's state as the host sees it. The supervisor is asked only while
 * the container runs (a stopped container's supervisor is gone, and asking
 * would only cost the timeout). An answer cspace does not accept makes the
 * agent lost, with the reason: `list` goes on with the other instances, and
 * the coordinator treats the worker as a faulty one (its attempt ends).
 */
export async function probeAgent(paths: InstancePaths, container: ContainerPresence, timeoutMs: number): Promise<AgentView> {
  const [asked, recorded, lastEventAt] = await Promise.all([
    container === "running" ? liveOrBroken(paths, timeoutMs) : Promise.resolve({ live: null, broken: null }),
    readRecordedStatus(paths),
    lastEventTime(paths),
  ]);
  return agentView({ container, live: asked.live, broken: asked.broken, recorded, lastEventAt });
}

async function liveOrBroken(paths: InstancePaths, timeoutMs: number): Promise<{ live: WorkerStatus | null; broken: string | null }> {
  try {
    return { live: await askStatus(paths, timeoutMs), broken: null };
  } catch (error) {
    if (error instanceof BadReplyError) return { live: null, broken: error.message };
    throw error;
  }
}
