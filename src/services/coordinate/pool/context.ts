import type { LoadedDevcontainer } from "../../../adapters/devcontainer/read-devcontainer.ts";
import { envFromList } from "../../../core/devcontainer/substitute.ts";
import { hasLocalHost, workerHosts } from "../../../core/hosts/hosts.ts";
import { containerNameFor } from "../../../core/instances/names.ts";
import type { ContainerDetails, ContainerRuntime, ExecOptions } from "../../../core/instances/ports.ts";
import { accessOf, loadInstanceSpec } from "../../instances/spec.ts";
import type { OpenedProject, PortOverrides } from "../../project.ts";
import { instancePaths, type InstancePaths } from "../../workers/instance-files.ts";
import type { RemoteWorker, RemoteWorkers } from "./remote-workers.ts";

/** What every part of the Docker pool reaches through: the opened project and its ports, and the workers on other hosts. */
export interface PoolContext {
  readonly project: OpenedProject;
  readonly remote: RemoteWorkers;
}

export function pathsOf(context: PoolContext, instance: string): InstancePaths {
  return instancePaths(context.project.runDir, instance);
}

/** The instance's container as the engine has it now; null when it is gone. */
export async function containerOf(context: PoolContext, instance: string): Promise<ContainerDetails | null> {
  return (await workerOf(context, instance)).container;
}

/** Where the instance runs: the engine of its host, its container there (null when gone), and, on a remote host, what the pool holds for it. */
export async function workerOf(context: PoolContext, instance: string): Promise<{ readonly runtime: ContainerRuntime; readonly container: ContainerDetails | null; readonly remote: RemoteWorker | null }> {
  const remote = await context.remote.of(instance);
  if (remote !== null) return { runtime: remote.runtime, container: remote.container, remote };
  // Not remote: on this machine's engine, or nowhere (with no host here, the hosts' engines say so: none is asked of this machine's).
  const runtime = hasLocalHost(workerHosts(context.project.config)) ? await context.project.ports.localRuntime() : await context.project.ports.runtime();
  return { runtime, container: await runtime.inspect(containerNameFor(context.project.projectId, instance)), remote: null };
}

/** The container user, workspace folder and remoteEnv of the instance, as `cspace exec` reaches in. */
export async function accessTo(context: PoolContext, instance: string, container: ContainerDetails): Promise<{ readonly access: ExecOptions; readonly spec: LoadedDevcontainer }> {
  const workspaces = await context.project.ports.workspaces();
  const spec = await loadInstanceSpec(context.project, workspaces, instance, envFromList(container.env));
  return { access: accessOf(spec), spec };
}

/**
 * The project's own ports as overrides for services that open the project
 * again (warm, down): the same engine, store and locks — fakes included in
 * tests — and the same configuration, flags and all.
 */
export function sharedPorts(project: OpenedProject): PortOverrides {
  return {
    // The factory's runtime is this machine's engine: the service routes over the hosts itself (a routed runtime here would
    // pass for the local host and ask every host, a silent one included, for what the local one runs).
    runtime: () => project.ports.localRuntime(),
    workspaces: () => project.ports.workspaces(),
    locks: () => project.ports.locks(),
    forge: () => project.ports.forge(),
    branches: () => project.ports.branches(),
  };
}
