import { openInstanceMirror } from "../../adapters/fs/instance-mirror.ts";
import { envFromList } from "../../core/devcontainer/substitute.ts";
import { CspaceError } from "../../core/errors.ts";
import { hostOfContainer, localHostName, onlyTheLocalHost, workerHosts } from "../../core/hosts/hosts.ts";
import { LABELS } from "../../core/instances/labels.ts";
import { containerNameFor } from "../../core/instances/names.ts";
import type { ContainerDetails, ContainerRuntime } from "../../core/instances/ports.ts";
import type { OpenedProject } from "../project.ts";
import { accessOf, loadInstanceSpec } from "../instances/spec.ts";
import { instanceDirExists, privateRunDir } from "./host-files.ts";
import { instancePaths, type InstancePaths } from "./instance-files.ts";

/** A worker whose container runs on another host than this machine's engine. */
export interface RemoteWorker {
  readonly runtime: ContainerRuntime;
  readonly container: ContainerDetails;
  readonly host: string;
}

/**
 * The instance's container when it runs on a host other than the local
 * engine; null with the default hosts (nothing is opened then), when it runs
 * on the local engine, or when there is none. A host that does not answer
 * fails the question only when this machine has no instance directory to
 * fall back on, or when `strict` (a command that must reach the worker
 * itself: the error names the host).
 */
export async function remoteWorker(project: OpenedProject, instance: string, options: { readonly strict?: boolean } = {}): Promise<RemoteWorker | null> {
  const hosts = workerHosts(project.config);
  if (onlyTheLocalHost(hosts)) return null;
  const runtime = await project.ports.runtime();
  let container: ContainerDetails | null;
  try {
    container = await runtime.inspect(containerNameFor(project.projectId, instance));
  } catch (error) {
    if (options.strict !== true && error instanceof CspaceError && (await instanceDirExists(instancePaths(project.runDir, instance)))) return null;
    throw error;
  }
  if (container?.labels[LABELS.project] !== project.projectId) return null;
  const host = hostOfContainer(container.labels);
  return host === localHostName(hosts) ? null : { runtime, container, host };
}

/**
 * Runs `work` on a copy of a remote worker's instance directory: the
 * instance-directory mirror (adapters/fs/instance-mirror.ts) into a run
 * directory of this command's own, synced once before `work` starts and
 * kept up to date while it runs (`live()` says whether it still is). Never
 * the project's run directory: a coordinator may be mirroring the same
 * worker there, and two writers would interleave. Removed afterwards.
 */
export async function withRemoteFiles<T>(project: OpenedProject, instance: string, worker: RemoteWorker, work: (paths: InstancePaths, live: () => boolean) => Promise<T>): Promise<T> {
  const access = accessOf(await loadInstanceSpec(project, await project.ports.workspaces(), instance, envFromList(worker.container.env)));
  const copy = await privateRunDir(instance);
  try {
    const paths = instancePaths(copy.runDir, instance);
    const mirror = await openInstanceMirror({ runtime: worker.runtime, containerId: worker.container.id, user: access.user, hostDir: paths.dir });
    try {
      await mirror.synced();
      return await work(paths, () => mirror.lost === null);
    } finally {
      await mirror.close();
    }
  } finally {
    await copy.remove();
  }
}
