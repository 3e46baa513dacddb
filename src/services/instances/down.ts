import { UserError } from "../../core/errors.ts";
import { LABELS } from "../../core/instances/labels.ts";
import { validateInstanceName } from "../../core/instances/names.ts";
import { openProject, type OpenedProject, type PortOverrides } from "../project.ts";
import { purgeProjectData } from "./purge.ts";
import { removeEgress } from "../warm/egress.ts";
import { hostsInReach, removeHostLeftovers, removeInstanceEverywhere, type HostRemoval, type UnreachableHost } from "./remove-on-hosts.ts";
import { removeInstance, type RemovalResult } from "./remove.ts";

export type DownResult = RemovalResult;

export type { HostRemoval, UnreachableHost };

/** What a down did: each instance, and with several hosts configured, what it did and could not do on each host. */
export interface DownReport {
  readonly instances: readonly DownResult[];
  readonly hosts: readonly HostRemoval[];
  readonly unreachableHosts: readonly UnreachableHost[];
}

/** `down --all --purge`: the instances removed, and the project's data and logs that were there and are gone. */
export interface PurgeResult extends DownReport {
  readonly purged: readonly string[];
}

export interface DownOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  instances: readonly string[];
  all: boolean;
  ports?: PortOverrides;
}

/**
 * Removes container, workspace and run-dir files of the named instances, or
 * of every instance of this project. Down wins over a warm in progress: it
 * marks the instance for removal (the warm stops at its next step and makes
 * nothing more), removes the container at once (ending a lifecycle command
 * the warm is blocked in), then takes the instance's lock and removes the rest.
 * `--all` also removes the project's egress proxy and networks (container.network.allow),
 * and on each host the mirror keepers and the mirror and checkout volumes.
 * With several hosts a host that does not answer is reported, not fatal: the
 * others are cleaned all the same.
 */
export async function downProject(options: DownOptions): Promise<DownReport> {
  if (options.all === (options.instances.length > 0)) {
    throw new UserError(options.all ? "give instance names or --all, not both" : "name the instances to remove, or pass --all", {
      hint: "cspace down issue-10 issue-11, or cspace down --all",
    });
  }
  const names = options.instances.map(validateInstanceName);
  return removeInstances(await openProject(options), { instances: names, all: options.all });
}

/** downProject's instances (the coordinator's pool and tests, which report hosts no further). */
export async function downInstances(options: DownOptions): Promise<DownResult[]> {
  return [...(await downProject(options)).instances];
}

/**
 * `down --all --purge`: every instance as `down --all` removes them, then the
 * project's data and logs (./purge.ts). Refused while a coordinator runs the
 * project (its log would go from under it), before anything is removed.
 */
export async function downAndPurge(options: { cwd: string; env: NodeJS.ProcessEnv; ports?: PortOverrides }): Promise<PurgeResult> {
  const project = await openProject(options);
  const held = await (await project.ports.coordinatorLock()).acquire();
  try {
    const report = await removeInstances(project, { instances: [], all: true });
    return { ...report, purged: await purgeProjectData(project, held) };
  } finally {
    await held.release().catch(() => undefined);
  }
}

async function removeInstances(project: OpenedProject, options: { instances: readonly string[]; all: boolean }): Promise<DownReport> {
  const [reach, workspaces, locks] = await Promise.all([hostsInReach(project), project.ports.workspaces(), project.ports.locks()]);
  const { runtime } = reach;
  const targets = options.all
    ? [...new Set((await runtime.list({ [LABELS.project]: project.projectId })).map((c) => c.labels[LABELS.instance]).filter((n) => n !== undefined))].sort()
    : options.instances;
  const ports = { runtime, workspaces };
  const remove = (instance: string): Promise<RemovalResult> => (reach.several ? removeInstanceEverywhere(ports, reach, project, instance) : removeInstance(ports, project, instance));
  const results: DownResult[] = [];
  for (const instance of targets) {
    // No container, no workspace and nobody making them: a plain removal of what files remain, and no lock files
    // left behind for a name that may never have existed.
    if (!(await locks.held(instance)) && (await runtime.list({ [LABELS.project]: project.projectId, [LABELS.instance]: instance })).length === 0 && (await workspaces.find(instance)) === null) {
      results.push(await remove(instance));
      continue;
    }
    await locks.requestRemoval(instance);
    try {
      const early = await remove(instance);
      const late = await locks.withLock(instance, () => remove(instance));
      results.push(merge(early, late));
    } finally {
      await locks.clearRemoval(instance);
    }
  }
  if (!options.all) return { instances: results, hosts: [], unreachableHosts: reach.unreachable };
  // The egress proxy and its networks serve every worker: they go with the last one, on --all only.
  if (!reach.several) {
    await removeEgress(runtime, project.projectId);
    return { instances: results, hosts: [], unreachableHosts: [] };
  }
  return { instances: results, hosts: await removeHostLeftovers(reach, project.projectId), unreachableHosts: reach.unreachable };
}

/** What either pass removed: the first may race a warm that recreates parts, the second runs alone. */
function merge(early: RemovalResult, late: RemovalResult): RemovalResult {
  const removed = {
    container: early.removed.container || late.removed.container,
    workspace: early.removed.workspace || late.removed.workspace,
    files: [...new Set([...early.removed.files, ...late.removed.files])].sort(),
  };
  return { instance: early.instance, removed, missing: !removed.container && !removed.workspace && removed.files.length === 0 };
}
