import type { ContainerCreateSpec } from "../../core/devcontainer/create-options.ts";
import { ExternalError } from "../../core/errors.ts";
import type {
  ContainerDetails,
  ContainerInfo,
  ContainerRuntime,
  EngineInfo,
  ExecOptions,
  ExecOutcome,
  ExecStream,
  FileToCopy,
  ImageBuild,
  ImageInfo,
  NetworkCreateSpec,
  NetworkInfo,
  Terminal,
  VolumeInfo,
} from "../../core/instances/ports.ts";
import type { HostRuntimes } from "../../core/hosts/ports.ts";

import { LABELS } from "../../core/instances/labels.ts";

const HOST_LABEL = LABELS.host;

/** What the routed runtime needs of the hosts: their names, and each one's engine (HostRuntimes opens, pings and caches them). */
export type RoutedHosts = Pick<HostRuntimes, "hosts" | "get">;

/**
 * One ContainerRuntime over several hosts, for the commands that reach an
 * existing worker without knowing where it runs (`send`, `logs`, `exec`,
 * `down`, the coordinator's probes). A container is made on the host its
 * `dev.cspace.host` label names (the default host without one); every other
 * call by id goes to the host that answered for that id, asked of every
 * host the first time. A listing filtered by the host label asks only that
 * host; otherwise every host, and a host that does not answer is an error
 * naming it rather than a silently shorter list (down or a probe would read
 * it as containers gone). Images and networks are per host: the default
 * host answers here (the local engine when it is configured, else the first
 * host); warm asks a host's own runtime (`host(name)`).
 *
 * It opens nothing itself: every engine comes from the hosts' runtimes
 * (ports.hosts()), so a command holds one connection per host whichever
 * way it reaches it, and closing those closes this.
 */
export class RoutedRuntime implements ContainerRuntime {
  readonly endpoint: string;
  readonly #hosts: RoutedHosts;
  readonly #names: readonly string[];
  readonly #default: string;
  /** Which host each container id or name was found on. */
  readonly #placed = new Map<string, string>();

  constructor(hosts: RoutedHosts) {
    const first = hosts.hosts[0];
    if (first === undefined) throw new Error("a routed runtime needs at least one host");
    this.#hosts = hosts;
    this.#names = hosts.hosts.map((host) => host.name);
    this.#default = hosts.hosts.find((host) => host.kind === "local")?.name ?? first.name;
    this.endpoint = this.#names.join(", ");
  }

  /** The runtime of one host, by name (a UserError naming the configured ones for any other). */
  host(name: string): Promise<ContainerRuntime> {
    return this.#hosts.get(name);
  }

  #first(): Promise<ContainerRuntime> {
    return this.host(this.#default);
  }

  /** The runtime holding this container, asking every host when it is not known yet; null when none has it. */
  async #holder(nameOrId: string): Promise<{ readonly runtime: ContainerRuntime; readonly details: ContainerDetails | null } | null> {
    const known = this.#placed.get(nameOrId);
    if (known !== undefined) return { runtime: await this.host(known), details: null };
    const answers = await Promise.allSettled(
      this.#names.map(async (name) => {
        const runtime = await this.host(name);
        return { name, runtime, details: await runtime.inspect(nameOrId) };
      }),
    );
    const found = answers.flatMap((answer) => (answer.status === "fulfilled" && answer.value.details !== null ? [answer.value] : []));
    const hit = found[0];
    if (hit !== undefined && hit.details !== null) {
      this.#remember(hit.name, hit.details);
      return { runtime: hit.runtime, details: hit.details };
    }
    const silent = answers.flatMap((answer, index) => (answer.status === "rejected" ? [silentHost(this.#names[index] ?? "?", answer.reason)] : []));
    if (silent.length > 0) throw new ExternalError(`cannot tell where container ${nameOrId} is: host ${silent.join(", ")} did not answer`, { hint: HINT });
    return null;
  }

  #remember(host: string, details: { readonly id: string; readonly name: string }): void {
    this.#placed.set(details.id, host);
    this.#placed.set(details.name, host);
  }

  async #on(nameOrId: string): Promise<ContainerRuntime> {
    const holder = await this.#holder(nameOrId);
    if (holder === null) throw new ExternalError(`no container ${nameOrId} on any host (${this.endpoint})`);
    return holder.runtime;
  }

  async ping(): Promise<void> {
    await (await this.#first()).ping();
  }

  async engineInfo(): Promise<EngineInfo> {
    return (await this.#first()).engineInfo();
  }

  async imageInfo(reference: string): Promise<ImageInfo | null> {
    return (await this.#first()).imageInfo(reference);
  }

  async hasImage(reference: string): Promise<boolean> {
    return (await this.#first()).hasImage(reference);
  }

  async pullImage(reference: string, signal?: AbortSignal): Promise<void> {
    await (await this.#first()).pullImage(reference, signal);
  }

  async buildImage(build: ImageBuild, signal?: AbortSignal): Promise<void> {
    await (await this.#first()).buildImage(build, signal);
  }

  async create(spec: ContainerCreateSpec): Promise<string> {
    const host = spec.Labels[HOST_LABEL] ?? this.#default;
    const id = await (await this.host(host)).create(spec);
    this.#remember(host, { id, name: spec.name });
    return id;
  }

  async start(id: string): Promise<void> {
    await (await this.#on(id)).start(id);
  }

  async inspect(nameOrId: string): Promise<ContainerDetails | null> {
    const holder = await this.#holder(nameOrId);
    if (holder === null) return null;
    return holder.details ?? holder.runtime.inspect(nameOrId);
  }

  async list(labels: Readonly<Record<string, string>>): Promise<readonly ContainerInfo[]> {
    const host = labels[HOST_LABEL];
    const names = host === undefined ? this.#names : this.#names.filter((name) => name === host);
    const answers = await Promise.allSettled(names.map(async (name) => ({ name, containers: await (await this.host(name)).list(labels) })));
    const silent = answers.flatMap((answer, index) => (answer.status === "rejected" ? [silentHost(names[index] ?? "?", answer.reason)] : []));
    if (silent.length > 0) throw new ExternalError(`cannot list containers: host ${silent.join(", ")} did not answer`, { hint: HINT });
    return answers.flatMap((answer) => {
      if (answer.status !== "fulfilled") return [];
      for (const container of answer.value.containers) this.#remember(answer.value.name, container);
      return answer.value.containers;
    });
  }

  async exec(id: string, command: readonly string[], options?: ExecOptions): Promise<ExecOutcome> {
    return (await this.#on(id)).exec(id, command, options);
  }

  async execDetached(id: string, command: readonly string[], options?: ExecOptions): Promise<void> {
    await (await this.#on(id)).execDetached(id, command, options);
  }

  async execStream(id: string, command: readonly string[], options?: ExecOptions): Promise<ExecStream> {
    return (await this.#on(id)).execStream(id, command, options);
  }

  async copyIn(id: string, files: readonly FileToCopy[]): Promise<void> {
    await (await this.#on(id)).copyIn(id, files);
  }

  async execAttached(id: string, command: readonly string[], terminal: Terminal, options?: ExecOptions): Promise<number> {
    return (await this.#on(id)).execAttached(id, command, terminal, options);
  }

  async remove(id: string): Promise<boolean> {
    const holder = await this.#holder(id);
    if (holder === null) return false;
    return holder.runtime.remove(id);
  }

  async watchStopped(labels: Readonly<Record<string, string>>, onStopped: (labels: Readonly<Record<string, string>>) => void): Promise<() => void> {
    // Best effort per host, as the port says: a host that cannot be watched leaves its workers to the slower probe.
    const stops = await Promise.allSettled(this.#names.map(async (name) => (await this.host(name)).watchStopped(labels, onStopped)));
    return () => {
      for (const stop of stops) if (stop.status === "fulfilled") stop.value();
    };
  }

  async ensureNetwork(spec: NetworkCreateSpec): Promise<string> {
    return (await this.#first()).ensureNetwork(spec);
  }

  async listNetworks(labels: Readonly<Record<string, string>>): Promise<readonly NetworkInfo[]> {
    return (await this.#first()).listNetworks(labels);
  }

  async connectNetwork(network: string, container: string, aliases: readonly string[]): Promise<void> {
    await (await this.#first()).connectNetwork(network, container, aliases);
  }

  async removeNetwork(id: string): Promise<boolean> {
    return (await this.#first()).removeNetwork(id);
  }

  /** Volumes are per host and named alike on each: removed wherever one is found; a host that does not answer is an error naming it. */
  async removeVolume(name: string): Promise<boolean> {
    const answers = await Promise.allSettled(this.#names.map(async (host) => (await this.host(host)).removeVolume(name)));
    const silent = answers.flatMap((answer, index) => (answer.status === "rejected" ? [silentHost(this.#names[index] ?? "?", answer.reason)] : []));
    if (silent.length > 0) throw new ExternalError(`cannot remove volume ${name}: host ${silent.join(", ")} did not answer`, { hint: HINT });
    return answers.some((answer) => answer.status === "fulfilled" && answer.value);
  }

  /** Every host's volumes with these labels; a host that does not answer is an error naming it, never a shorter list. */
  async listVolumes(labels: Readonly<Record<string, string>>): Promise<readonly VolumeInfo[]> {
    const answers = await Promise.allSettled(this.#names.map(async (host) => (await this.host(host)).listVolumes(labels)));
    const silent = answers.flatMap((answer, index) => (answer.status === "rejected" ? [silentHost(this.#names[index] ?? "?", answer.reason)] : []));
    if (silent.length > 0) throw new ExternalError(`cannot list volumes: host ${silent.join(", ")} did not answer`, { hint: HINT });
    return answers.flatMap((answer) => (answer.status === "fulfilled" ? answer.value : []));
  }

  async logs(id: string, options?: { readonly since?: string | undefined }): Promise<string> {
    return (await this.#on(id)).logs(id, options);
  }
}

const HINT = "Run cspace doctor to check each host.";

/** "big (connection refused)": the host's name once, though HostRuntimes' errors start with it too. */
function silentHost(name: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const prefix = `host ${name}: `;
  return `${name} (${message.startsWith(prefix) ? message.slice(prefix.length) : message})`;
}
