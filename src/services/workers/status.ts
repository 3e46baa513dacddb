import { instanceDirExists } from "./host-files.ts";
import type { WorkerStatus } from "../../core/agents/worker-status.ts";
import { UserError } from "../../core/errors.ts";
import { containerNameFor, validateInstanceName } from "../../core/instances/names.ts";
import { openProject, type PortOverrides } from "../project.ts";
import { agentView, type AgentView, type ContainerPresence } from "./agent-state.ts";
import { lastEventTime } from "./events.ts";
import { instancePaths } from "./instance-files.ts";
import { readRecordedStatus } from "./probe.ts";
import { askStatus } from "./supervisor-client.ts";
import { withWorkerPaths } from "./worker-paths.ts";

export interface InstanceStatus {
  readonly instance: string;
  /** Only looked up when the supervisor does not answer (its answer is enough otherwise); null then. */
  readonly container: ContainerPresence | null;
  readonly agent: AgentView;
  /** The supervisor's answer, else state.json as last written; null when no agent ever ran. */
  readonly status: WorkerStatus | null;
  /** Whether `status` is the supervisor's live answer. */
  readonly live: boolean;
}

/** `cspace status <instance>`: the supervisor's answer, or what the host concludes without one (lost, exited, none). */
export async function instanceStatus(options: { cwd: string; env: NodeJS.ProcessEnv; instance: string; ports?: PortOverrides }): Promise<InstanceStatus> {
  const instance = validateInstanceName(options.instance);
  const project = await openProject(options);
  // A remote worker with no coordinator running: its supervisor through a relay of this command's own, its files through a mirror.
  return withWorkerPaths(project, instance, { files: true }, async (paths, remote) => {
    const live = await askStatus(paths, remote === null ? 2_000 : 10_000);
    const [recorded, lastEventAt] = await Promise.all([readRecordedStatus(paths), lastEventTime(paths)]);
    if (live !== null) {
      return { instance, container: null, agent: agentView({ container: "running", live, recorded, lastEventAt }), status: live, live: true };
    }
    const container = remote?.container ?? (await (await project.ports.runtime()).inspect(containerNameFor(project.projectId, instance)));
    const presence: ContainerPresence = container === null ? "missing" : container.state === "running" ? "running" : "stopped";
    const hasDir = await instanceDirExists(instancePaths(project.runDir, instance));
    if (container === null && !hasDir) {
      throw new UserError(`there is no instance "${instance}" in this project`, { hint: "cspace list shows the instances" });
    }
    return { instance, container: presence, agent: agentView({ container: presence, live: null, recorded, lastEventAt }), status: recorded, live: false };
  });
}
