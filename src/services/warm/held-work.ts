import { readdir, stat } from "node:fs/promises";
import { LABELS } from "../../core/instances/labels.ts";
import { containerNameFor } from "../../core/instances/names.ts";
import type { ContainerRuntime, WorkspaceStore } from "../../core/instances/ports.ts";
import { instancePaths } from "../workers/instance-files.ts";
import { removeInstance } from "../instances/remove.ts";

/** The commit the workspace was made at; a label, since it never changes for the container's life. */
export const COMMIT_LABEL = "dev.cspace.commit";

/**
 * What an instance held when a warm began. An agent may have worked there:
 * its checkout may carry commits not pushed anywhere, its directory the
 * agent's events and unsent reports. A warm's own retries and clean-ups keep
 * all of it, remaking at most the container; only an explicit `--reset` (or
 * `down`) removes it.
 */
export interface HeldWork {
  /** The commit a kept workspace was made at (its container's label); null when there is no such workspace to keep. */
  readonly workspaceCommit: string | null;
  /** The instance directory holds events or reports. */
  readonly records: boolean;
}

export const NOTHING_HELD: HeldWork = { workspaceCommit: null, records: false };

interface Ports {
  readonly runtime: ContainerRuntime;
  readonly workspaces: WorkspaceStore;
}

interface Where {
  readonly projectId: string;
  readonly runDir: string;
}

export async function heldWork(ports: Ports, where: Where, instance: string): Promise<HeldWork> {
  const [container, workspace, records] = await Promise.all([
    ports.runtime.inspect(containerNameFor(where.projectId, instance)),
    ports.workspaces.find(instance),
    holdsRecords(where.runDir, instance),
  ]);
  // Without the label the workspace's starting point is unknown: it is made afresh, as before.
  const commit = container?.labels[COMMIT_LABEL];
  return { workspaceCommit: workspace !== null && commit !== undefined ? commit : null, records };
}

async function holdsRecords(runDir: string, instance: string): Promise<boolean> {
  const paths = instancePaths(runDir, instance);
  const sizes = await Promise.all([paths.events, paths.eventsRotated].map((file) => stat(file).then((s) => s.size, () => 0)));
  const reports = await readdir(paths.outbox).catch(() => []);
  return sizes.some((size) => size > 0) || reports.length > 0;
}

/**
 * Removes what a failed or interrupted attempt made: the instance's
 * containers always, its workspace and directory only when they hold none of
 * the work the warm found there.
 */
export async function discardAttempt(ports: Ports, where: Where, instance: string, held: HeldWork): Promise<void> {
  if (held.workspaceCommit === null && !held.records) {
    await removeInstance(ports, where, instance);
    return;
  }
  await removeContainers(ports.runtime, where, instance);
  if (held.workspaceCommit === null) await ports.workspaces.remove(instance);
}

export async function removeContainers(runtime: ContainerRuntime, where: Where, instance: string): Promise<void> {
  for (const c of await runtime.list({ [LABELS.project]: where.projectId, [LABELS.instance]: instance })) await runtime.remove(c.id);
}
