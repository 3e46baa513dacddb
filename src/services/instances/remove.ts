import { removeInstanceFiles } from "../../adapters/instance-files.ts";
import { LABELS } from "../../core/instances/labels.ts";
import type { ContainerRuntime, WorkspaceStore } from "../../core/instances/ports.ts";

export interface RemovalResult {
  readonly instance: string;
  /** What was there and is gone now. */
  readonly removed: { readonly container: boolean; readonly workspace: boolean; readonly files: readonly string[] };
  /** Nothing of the instance existed. */
  readonly missing: boolean;
}

export interface RemovalPorts {
  readonly runtime: ContainerRuntime;
  readonly workspaces: WorkspaceStore;
}

/** Container (found by label), workspace and run-dir files of one instance; safe to repeat. */
export async function removeInstance(
  ports: RemovalPorts,
  where: { readonly projectId: string; readonly runDir: string },
  instance: string,
): Promise<RemovalResult> {
  const containers = await ports.runtime.list({ [LABELS.project]: where.projectId, [LABELS.instance]: instance });
  let container = false;
  for (const c of containers) container = (await ports.runtime.remove(c.id)) || container;
  const workspace = await ports.workspaces.remove(instance);
  const files = await removeInstanceFiles(where.runDir, instance);
  return { instance, removed: { container, workspace, files }, missing: !container && !workspace && files.length === 0 };
}
