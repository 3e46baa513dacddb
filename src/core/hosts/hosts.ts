import type { Config } from "../config/schema.ts";
import { DEFAULT_HOST_NAME } from "../config/rules.ts";
import { UserError } from "../errors.ts";
import { LABELS } from "../instances/labels.ts";

/**
 * The hosts workers run on (`workers.hosts`), as the rest of cspace sees
 * them: each with its kind and the slots it offers. Pure: which engine or
 * cluster stands behind a host is the composition root's to open
 * (services/hosts.ts).
 */

/** How cspace reaches a host: the local engine, a Docker engine by address (unix://, tcp://), over SSH, or Kubernetes. */
export type HostKind = "local" | "docker" | "ssh" | "kubernetes";

/** One entry of `workers.hosts`, as validated. */
export type HostSettings = Config["workers"]["hosts"][number];

export interface WorkerHost {
  readonly name: string;
  readonly kind: HostKind;
  /** Workers it runs at once: `slots`, else coordinator.maxParallel. */
  readonly slots: number;
  /** The entry as written (addresses, ssh and kubernetes settings). */
  readonly settings: HostSettings;
}

export function hostKind(settings: HostSettings): HostKind {
  if (settings.kubernetes !== undefined) return "kubernetes";
  if (settings.docker === undefined) return "local";
  return settings.docker.startsWith("ssh://") ? "ssh" : "docker";
}

/** The configured hosts in their order, each with its kind and slots. */
export function workerHosts(config: Pick<Config, "workers" | "coordinator">): WorkerHost[] {
  return config.workers.hosts.map((settings) => ({
    name: settings.name,
    kind: hostKind(settings),
    // A host that does not say can run as many as a run does at once: the run's own limit still holds.
    slots: settings.slots ?? config.coordinator.maxParallel,
    settings,
  }));
}

/**
 * Whether the configuration is the default one host (the local engine by its
 * default name): then commands need not open, list or show hosts at all.
 */
export function onlyTheLocalHost(hosts: readonly WorkerHost[]): boolean {
  const [only] = hosts;
  return hosts.length === 1 && only !== undefined && only.kind === "local";
}

/** Why the worker image is not looked into before a run whose workers all run elsewhere (preflight, doctor). */
export const NO_LOCAL_HOST_IMAGE = "no host in workers.hosts is this machine's engine: each worker's image is checked where it starts";

/** Whether some configured host is this machine's engine: without one, a run of workers elsewhere needs no engine here. */
export function hasLocalHost(hosts: readonly WorkerHost[]): boolean {
  return hosts.some((host) => host.kind === "local");
}

/** The host named `name`; a UserError listing the configured ones otherwise (a `--host` flag, a label of a host since removed). */
export function hostNamed(hosts: readonly WorkerHost[], name: string): WorkerHost {
  const found = hosts.find((host) => host.name === name);
  if (found !== undefined) return found;
  throw new UserError(`no host named "${name}" in workers.hosts; configured: ${hosts.map((host) => host.name).join(", ")}`, {
    hint: "Name one of the configured hosts, or add it to workers.hosts in .cspace.json (`cspace doctor` checks each).",
  });
}

/**
 * The host a container says it runs on (its `dev.cspace.host` label). A
 * container made before hosts existed has none: it was made on the local
 * engine, under the default name.
 */
export function hostOfContainer(labels: Readonly<Record<string, string>>): string {
  return labels[LABELS.host] ?? DEFAULT_HOST_NAME;
}

/**
 * The name of the host that is the local engine (the entry without docker or
 * kubernetes): what `warm` and `up` label their containers with while they
 * make them on the local engine. The default name when the list has none.
 */
export function localHostName(hosts: readonly WorkerHost[]): string {
  return hosts.find((host) => host.kind === "local")?.name ?? DEFAULT_HOST_NAME;
}
