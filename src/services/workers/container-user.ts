import { envFromList } from "../../core/devcontainer/substitute.ts";
import type { ContainerDetails, ContainerRuntime } from "../../core/instances/ports.ts";
import { accessOf, loadInstanceSpec } from "../instances/spec.ts";
import type { OpenedProject } from "../project.ts";
import { userIds } from "../warm/steps.ts";

/** The user a remote worker's relay, mirror and collect run as, and where its checkout is. */
export interface ContainerUser {
  /** As uid:gid, asked of the container: what an exec runs as on any runtime (a name needs the container's passwd). */
  readonly user: string;
  readonly workspaceFolder: string;
}

/**
 * The container user of an instance's container, from its devcontainer spec
 * (as the container's environment resolves it) and the ids the container
 * gives that user. Shared by the coordinator's pool and the commands that
 * reach a remote worker on their own (remote-session.ts).
 */
export async function containerUserOf(project: OpenedProject, runtime: ContainerRuntime, container: ContainerDetails, instance: string): Promise<ContainerUser> {
  const spec = await loadInstanceSpec(project, await project.ports.workspaces(), instance, envFromList(container.env));
  const ids = await userIds(runtime, container.id, accessOf(spec).user);
  return { user: `${String(ids.uid)}:${String(ids.gid)}`, workspaceFolder: spec.spec.workspaceFolder };
}
