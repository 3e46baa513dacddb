import type { ContainerInfo, ContainerRuntime } from "../../core/instances/ports.ts";
import type { OpenedProject } from "../project.ts";
import type { AgentView, ContainerPresence } from "../workers/agent-state.ts";
import type { InstancePaths } from "../workers/instance-files.ts";
import { probeAgent } from "../workers/probe.ts";
import { withRemoteSession } from "../workers/remote-session.ts";
import { socketServed } from "../workers/worker-paths.ts";

/** How long list gives a remote worker's one-off relay to say hello: list must not wait as long as a command that has to reach it. */
const READY_MS = 10_000;

/**
 * The agent of a worker that runs on another host, for `list`. While a
 * coordinator carries its sockets and files here, this machine's copy says
 * it all (as for a local worker). Otherwise nothing here is fresh: the
 * worker's own files are copied and its supervisor asked through a one-off
 * session (workers/remote-session.ts). A session that cannot be had (the
 * host stopped answering since it listed the container) leaves what this
 * machine last knew.
 */
export async function probeRemoteAgent(
  project: OpenedProject,
  found: { readonly container: ContainerInfo; readonly host: string; readonly runtime: ContainerRuntime },
  instance: string,
  paths: InstancePaths,
  timeoutMs: number,
): Promise<AgentView> {
  const presence: ContainerPresence = found.container.state === "running" ? "running" : "stopped";
  if (presence !== "running" || (await socketServed(paths.workerSocket))) return probeAgent(paths, presence, timeoutMs);
  try {
    const container = await found.runtime.inspect(found.container.id);
    if (container === null) return await probeAgent(paths, "missing", 0);
    const worker = { runtime: found.runtime, container, host: found.host };
    return await withRemoteSession(project, instance, worker, { files: true, readyTimeoutMs: READY_MS }, (session) => probeAgent(session, presence, timeoutMs));
  } catch {
    return probeAgent(paths, presence, timeoutMs);
  }
}
