import { LABELS } from "../../core/instances/labels.ts";
import type { ContainerInfo } from "../../core/instances/ports.ts";
import { openProject, type PortOverrides } from "../project.ts";

export interface InstanceSummary {
  readonly instance: string;
  readonly container: string;
  readonly state: ContainerInfo["state"];
  readonly base: string | null;
  readonly image: string;
  readonly createdAt: string;
}

/** This project's instances, found by label only. Reads; creates nothing. */
export async function listInstances(options: { cwd: string; env: NodeJS.ProcessEnv; ports?: PortOverrides }): Promise<InstanceSummary[]> {
  const project = await openProject(options);
  const runtime = await project.ports.runtime();
  const found = await runtime.list({ [LABELS.project]: project.projectId });
  return found
    .map((c) => ({
      instance: c.labels[LABELS.instance] ?? c.name,
      container: c.name,
      state: c.state,
      base: c.labels[LABELS.base] ?? null,
      image: c.image,
      createdAt: c.createdAt,
    }))
    .sort((a, b) => a.instance.localeCompare(b.instance));
}
