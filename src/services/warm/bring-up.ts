import type { LoadedDevcontainer } from "../../adapters/devcontainer/read-devcontainer.ts";
import { ensureInstanceDir, shareInstanceDir } from "../../adapters/instance-files.ts";
import { removeUntrusted } from "../../adapters/fs/untrusted-dir.ts";
import { INSTANCE_FILES } from "../../core/messaging/layout.ts";
import { envFromList } from "../../core/devcontainer/substitute.ts";
import { localHostName, workerHosts } from "../../core/hosts/hosts.ts";
import { containerNameFor } from "../../core/instances/names.ts";
import type { ContainerRuntime, WorkspaceStore } from "../../core/instances/ports.ts";
import type { WarmAction, WarmStep } from "../../core/instances/warm-events.ts";
import type { WorkerNetwork } from "../../core/network/egress.ts";
import { accessOf, loadInstanceSpec } from "../instances/spec.ts";
import type { Project } from "../project.ts";
import { markPostCreateDone, runLifecycle, trustStore, userIds, type LifecycleRun } from "./steps.ts";
import { validate } from "./validate.ts";
import { reuseExisting } from "./reuse.ts";
import { lifecycleRunOf, workerCreateSpec } from "./worker-spec.ts";
import { COMMIT_LABEL, discardAttempt, removeContainers, type HeldWork } from "./held-work.ts";

export { COMMIT_LABEL } from "./held-work.ts";

export interface BringUpPorts {
  readonly runtime: ContainerRuntime;
  readonly workspaces: WorkspaceStore;
}

export interface Target {
  readonly instance: string;
  readonly base: string;
  /** The commit the base names, fetched once and shared by every instance of this warm. */
  readonly baseCommit: () => Promise<string>;
  /** The network mode and proxy variables of container.network (./egress.ts made what it needs). */
  readonly network: WorkerNetwork;
}

/** Announces a step; throws when the warm must stop (interrupted, or `down` asked for the instance). */
export type StepGate = (name: WarmStep) => Promise<void>;

/**
 * One attempt at making an instance ready: an existing container with its
 * workspace is validated (restarted first when stopped, and once more when it
 * stops before the checks end); a kept workspace without its container gets
 * a new container; anything else is made from scratch. The caller holds the
 * instance's lock.
 */
export async function bringUp(
  project: Project,
  ports: BringUpPorts,
  target: Target,
  loaded: LoadedDevcontainer,
  options: {
    /** Do not reuse the container (a retry, or --reset). */
    readonly reset: boolean;
    /** Made by an older cspace: its container is made again, its kept checkout moved onto the store's mount (./outdated-worker.ts). */
    readonly outdated?: boolean | undefined;
    /** What the warm found there and keeps (nothing under --reset). */
    readonly held: HeldWork;
    readonly step: StepGate;
    readonly signal: AbortSignal | undefined;
  },
): Promise<{ action: WarmAction; commit: string }> {
  const { runtime, workspaces } = ports;
  const { instance, base } = target;
  const { step, signal } = options;
  const lifecycle = (key: LifecycleRun["key"], resolved: LoadedDevcontainer): LifecycleRun => lifecycleRunOf(project, key, resolved, signal);
  const name = containerNameFor(project.projectId, instance);
  const instanceDir = await ensureInstanceDir(project.runDir, instance);
  const existing = options.reset || options.outdated === true ? null : await runtime.inspect(name);
  const workspace = await workspaces.find(instance);
  const recorded = existing?.labels[COMMIT_LABEL];
  if (existing !== null && workspace !== null && recorded !== undefined) {
    const here = await loadInstanceSpec(project, workspaces, instance, envFromList(existing.env));
    return reuseExisting(runtime, existing, recorded, { access: accessOf(here, signal), postStart: lifecycle("postStartCommand", here), step });
  }
  const kept = options.held.workspaceCommit !== null && workspace !== null ? { ws: workspace, commit: options.held.workspaceCommit } : null;
  // Leftovers of an earlier attempt (a container without its workspace, or the reverse) go first; the work found there stays.
  if (kept === null) await discardAttempt(ports, project, instance, options.held);
  else {
    await removeContainers(runtime, project, instance);
    // With no container left using it, a checkout an older cspace linked to the store stops sharing its files.
    if (options.outdated === true) await workspaces.borrowStore(instance);
  }
  await ensureInstanceDir(project.runDir, instance);
  // No supervisor runs in a container about to be made: a lock left here is another container's (this instance's worker
  // on a host since lost, copied by its mirror), and its pid could pass for a live process in the new one.
  await removeUntrusted(instanceDir, INSTANCE_FILES.supervisorLock);
  await step("workspace");
  const commit = kept?.commit ?? (await target.baseCommit());
  const ws = kept?.ws ?? (await workspaces.create(instance, base, commit, signal));
  await step("create");
  const id = await runtime.create(
    workerCreateSpec(project, target, loaded, {
      host: localHostName(workerHosts(project.config)),
      commit,
      files: { kind: "host", workspace: ws.path, instanceDir },
      extraMounts: ws.supportMounts.map((m) => ({ type: "bind", source: m.source, target: m.target, readOnly: true })),
    }),
  );
  await step("start");
  await runtime.start(id);
  const details = await runtime.inspect(id);
  const resolved = await loadInstanceSpec(project, workspaces, instance, envFromList(details?.env ?? []));
  const access = accessOf(resolved, signal);
  await trustStore(runtime, id);
  const ids = await userIds(runtime, id, access.user);
  await workspaces.handOver(ws, ids.uid, ids.gid);
  await shareInstanceDir(instanceDir, ids.uid, ids.gid);
  await step("postCreate");
  await runLifecycle(runtime, id, lifecycle("postCreateCommand", resolved));
  await markPostCreateDone(runtime, id);
  await step("postStart");
  await runLifecycle(runtime, id, lifecycle("postStartCommand", resolved));
  await step("validate");
  // A kept workspace may have moved on from the commit it was made at.
  await validate(runtime, id, access, { commit, exact: kept === null });
  return { action: "created", commit };
}
