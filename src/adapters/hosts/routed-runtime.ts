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
} from "../../core/instances/ports.ts";

import { LABELS } from "../../core/instances/labels.ts";

const HOST_LABEL = LABELS.host;

/** A host's runtime, opened on first use (an SSH connection or a cluster client is not made for a command that never needs it). */
export interface HostRuntimeSource {
  readonly name: string;
  open(): Promise<ContainerRuntime>;
}

/**
 * One ContainerRuntime over several hosts, for the commands that reach an
 * existing worker without knowing where it runs (`send`, `logs`, `exec`,
 * `down`, the coordinator's probes). A container is made on the host its
 * `dev.cspace.host` label names (the first host without one); every other
 * call by id goes to the host that answered for that id, asked of every
 * host the first time. A listing filtered by the host label asks only that
 * host; otherwise every host, and a host that does not answer is an error
 * naming it rather than a silently shorter list (down or a probe would read
 * it as containers gone). Images and networks are per host: the first host
 * answers here; warm asks a host's own runtime (`host(name)`).
 */
export class RoutedRuntime implements ContainerRuntime {
  readonly endpoint: string;
  readonly #sources: readonly HostRuntimeSource[];
  readonly #opened = new Map<string, Promise<ContainerRuntime>>();
  /** Which host each container id or name was found on. */
  readonly #placed = new Map<string, string>();

  constructor(sources: readonly HostRuntimeSource[]) {
    const first = sources[0];
    if (first === undefined) throw new Error("a routed runtime needs at least one host");
    this.#sources = sources;
    this.endpoint = sources.map((source) => source.name).join(", ");
  }

  /** The runtime of one host, by name. */
  host(name: string): Promise<ContainerRuntime> {
    const source = this.#sources.find((candidate) => candidate.name === name);
    if (source === undefined) return Promise.reject(new ExternalError(`no host named ${name} is configured`, { hint: `Configured hosts: ${this.endpoint}.` }));
    let opened = this.#opened.get(name);
    if (opened === undefined) {
      opened = source.open();
      // A host that could not be opened is tried again next time (an SSH connection refused once may come back).
      opened.catch(() => this.#opened.delete(name));
      this.#opened.set(name, opened);
    }
    return opened;
  }

  #first(): Promise<ContainerRuntime> {
    return this.host(this.#firstName());
  }

  #firstName(): string {
    return this.#sources[0]?.name ?? "";
  }

  /** The runtime holding this container, asking every host when it is not known yet; null when none has it. */
  async #holder(nameOrId: string): Promise<{ readonly runtime: ContainerRuntime; readonly details: ContainerDetails | null } | null> {
    const known = this.#placed.get(nameOrId);
    if (known !== undefined) return { runtime: await this.host(known), details: null };
    const answers = await Promise.allSettled(
      this.#sources.map(async (source) => {
        const runtime = await this.host(source.name);
        return { name: source.name, runtime, details: await runtime.inspect(nameOrId) };
      }),
    );
    const found = answers.flatMap((answer) => (answer.status === "fulfilled" && answer.value.details !== null ? [answer.value] : []));
    const hit = found[0];
    if (hit !== undefined && hit.details !== null) {
      this.#remember(hit.name, hit.details);
      return { runtime: hit.runtime, details: hit.details };
    }
    const silent = answers.flatMap((answer, index) => (answer.status === "rejected" ? [this.#sources[index]?.name ?? "?"] : []));
    if (silent.length > 0) throw new ExternalError(`cannot tell where container ${nameOrId} is: host ${silent.join(", ")} did not answer`, { hint: "Run cspace doctor to check each host." });
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
    const host = spec.Labels[HOST_LABEL] ?? this.#firstName();
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
    const sources = host === undefined ? this.#sources : this.#sources.filter((source) => source.name === host);
    const answers = await Promise.allSettled(sources.map(async (source) => ({ name: source.name, containers: await (await this.host(source.name)).list(labels) })));
    const silent = answers.flatMap((answer, index) => (answer.status === "rejected" ? [`${sources[index]?.name ?? "?"} (${reasonOf(answer.reason)})`] : []));
    if (silent.length > 0) throw new ExternalError(`cannot list containers: host ${silent.join(", ")} did not answer`, { hint: "Run cspace doctor to check each host." });
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
    const stops = await Promise.allSettled(this.#sources.map(async (source) => (await this.host(source.name)).watchStopped(labels, onStopped)));
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

  /** Volumes are per host and named alike on each: removed wherever one is found. */
  async removeVolume(name: string): Promise<boolean> {
    const removed = await Promise.all(this.#sources.map(async (source) => (await this.host(source.name)).removeVolume(name)));
    return removed.includes(true);
  }

  async logs(id: string, options?: { readonly since?: string | undefined }): Promise<string> {
    return (await this.#on(id)).logs(id, options);
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
