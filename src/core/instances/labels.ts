/**
 * Labels on every container cspace makes. `list`, `down` and reconciliation
 * find instances by these labels only, never by container name.
 */
export const LABELS = {
  project: "dev.cspace.project",
  instance: "dev.cspace.instance",
  base: "dev.cspace.base",
  run: "dev.cspace.run",
  issue: "dev.cspace.issue",
  image: "dev.cspace.image-inputs",
  /** The network a worker was made on: "open", "none" or its egress network (container.network). */
  network: "dev.cspace.network",
  /** The worker layout the container and its checkout were made to (WORKER_LAYOUT); absent on those of a cspace before it. */
  layout: "dev.cspace.layout",
  /** The name of the host (workers.hosts) the container was made on: `list` shows it, placement keeps a worker there. */
  host: "dev.cspace.host",
} as const;

/**
 * The layout of the workers this cspace makes. 2: the container hardened
 * (capabilities dropped, no-new-privileges, a pids limit), the checkout
 * borrowing the store from its read-only mount, host-only files out of the
 * container's sight. Raise it when a change to how workers are made must
 * reach the workers already made (./outdated.ts).
 */
export const WORKER_LAYOUT = "2";

export interface InstanceLabelsInput {
  readonly projectId: string;
  readonly instance: string;
  /** The base branch the workspace was checked out at. */
  readonly base: string;
  readonly issue?: number | undefined;
  readonly run?: string | undefined;
  /** The image's input hash (built images), or the image reference (`image` form). */
  readonly imageInputs?: string | undefined;
  /** The host (workers.hosts) it is made on. */
  readonly host: string;
}

export function instanceLabels(input: InstanceLabelsInput): Record<string, string> {
  const labels: Record<string, string> = {
    [LABELS.project]: input.projectId,
    [LABELS.instance]: input.instance,
    [LABELS.base]: input.base,
    [LABELS.host]: input.host,
  };
  if (input.issue !== undefined) labels[LABELS.issue] = String(input.issue);
  if (input.run !== undefined) labels[LABELS.run] = input.run;
  if (input.imageInputs !== undefined) labels[LABELS.image] = input.imageInputs;
  return labels;
}

/** Docker `label` filters (`key=value`) selecting a project's containers, or one instance of it. */
export function labelFilters(projectId: string, instance?: string): string[] {
  const filters = [`${LABELS.project}=${projectId}`];
  if (instance !== undefined) filters.push(`${LABELS.instance}=${instance}`);
  return filters;
}
