import type { Agent } from "node:http";
import { PassThrough, Readable } from "node:stream";
import type Docker from "dockerode";
import type { ContainerCreateSpec, DockerMount } from "../../core/devcontainer/create-options.ts";
import { CspaceError, ExternalError } from "../../core/errors.ts";
import type {
  ContainerDetails,
  ContainerInfo,
  ContainerRuntime,
  ContainerState,
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
import { watchStoppedContainers } from "./container-events.ts";
import { tarOf } from "../files-tar.ts";
import { execExitCode } from "./exec-exit.ts";
import { startExecStream } from "./exec-stream.ts";
import { dockerEndpoint, type DockerEndpoint } from "./endpoint.ts";
import { engineHttpFor, type EngineHttp } from "./engine-http.ts";
import { streamEnded } from "./stream-end.ts";
import { deadline, dockerReason, statusOf, unreachableReason } from "./errors.ts";
import { buildImage, hasImage, pullImage } from "./images.ts";
import { connectNetwork, containerLogs, ensureNetwork, listNetworks, removeNetwork } from "./networks.ts";

/** Output kept per stream of an exec: enough for a failure's tail, bounded for chatty installs. */
const KEEP_BYTES = 256 * 1024;
const STATES: readonly ContainerState[] = ["created", "running", "paused", "restarting", "removing", "exited", "dead"];

const PING_TIMEOUT_MS = 5_000;
/** doctor asks these: a dead socket or a silent host must not hold it up. */
const INFO_TIMEOUT_MS = 3_000;

/**
 * The ContainerRuntime port on a Docker engine, through its Engine API.
 * dockerode is loaded on the first operation that needs it (create, start,
 * exec, pull, build, remove): reading commands (`list`, the ping every
 * command starts with, inspect) use the small client in ./engine-http.ts
 * when the endpoint speaks plain HTTP, and never load it. The constructor
 * only reads the endpoint: the composition root builds one for every command.
 */
export class DockerRuntime implements ContainerRuntime {
  readonly endpoint: string;
  readonly #endpoint: DockerEndpoint;
  /** null for ssh:// and TLS endpoints: everything goes through dockerode there. */
  readonly #http: EngineHttp | null;
  #dockerode: Promise<Docker> | undefined;

  /** `endpoint`, when given, is used instead of DOCKER_HOST's (a remote engine over SSH: ./ssh/runtime.ts). */
  constructor(env: NodeJS.ProcessEnv, endpoint: DockerEndpoint = dockerEndpoint(env)) {
    this.#endpoint = endpoint;
    this.endpoint = this.#endpoint.url;
    this.#http = engineHttpFor(this.#endpoint);
  }

  #docker(): Promise<Docker> {
    this.#dockerode ??= loadDockerode(this.#endpoint);
    return this.#dockerode;
  }

  async ping(): Promise<void> {
    try {
      if (this.#http !== null) await this.#http.getText("/_ping", { timeoutMs: PING_TIMEOUT_MS });
      else await deadline((await loadDockerode(this.#endpoint, PING_TIMEOUT_MS)).ping(), PING_TIMEOUT_MS);
    } catch (error) {
      throw new ExternalError(`no Docker engine at ${this.endpoint}: ${unreachableReason(error)}`, {
        cause: error,
        // The way there (an SSH connection) may know better what to do than "start the engine".
        hint: (error instanceof CspaceError ? error.hint : undefined) ?? "Start the Docker engine (or set DOCKER_HOST to one that runs), then try again; `cspace doctor` checks it.",
      });
    }
  }

  async engineInfo(): Promise<EngineInfo> {
    try {
      const info = (this.#http === null
        ? await deadline((await loadDockerode(this.#endpoint, INFO_TIMEOUT_MS)).version(), INFO_TIMEOUT_MS)
        : await this.#http.getJson("/version", { timeoutMs: INFO_TIMEOUT_MS })) as { Version?: unknown; ApiVersion?: unknown };
      return { version: typeof info.Version === "string" ? info.Version : "unknown", apiVersion: typeof info.ApiVersion === "string" ? info.ApiVersion : "unknown" };
    } catch (error) {
      throw new ExternalError(`no Docker engine at ${this.endpoint}: ${unreachableReason(error)}`, { cause: error });
    }
  }

  async imageInfo(reference: string): Promise<ImageInfo | null> {
    try {
      const info = (this.#http === null
        ? await (await this.#docker()).getImage(reference).inspect()
        : await this.#http.getJson(`/images/${pathOfReference(reference)}/json`, { timeoutMs: INFO_TIMEOUT_MS })) as { Id?: unknown; Size?: unknown };
      return { id: typeof info.Id === "string" ? info.Id : "", sizeBytes: typeof info.Size === "number" ? info.Size : 0 };
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw new ExternalError(`cannot inspect image ${reference}: ${dockerReason(error)}`, { cause: error });
    }
  }

  async hasImage(reference: string): Promise<boolean> {
    if (this.#http === null) return hasImage(await this.#docker(), reference);
    try {
      await this.#http.getJson(`/images/${pathOfReference(reference)}/json`);
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw new ExternalError(`cannot inspect image ${reference}: ${dockerReason(error)}`, { cause: error });
    }
  }

  async pullImage(reference: string, signal?: AbortSignal): Promise<void> {
    return pullImage(await this.#docker(), reference, signal);
  }

  async buildImage(build: ImageBuild, signal?: AbortSignal): Promise<void> {
    return buildImage(await this.#docker(), build, signal);
  }

  async create(spec: ContainerCreateSpec): Promise<string> {
    try {
      const container = await (await this.#docker()).createContainer(createBody(spec));
      return container.id;
    } catch (error) {
      throw new ExternalError(`cannot create container ${spec.name}: ${dockerReason(error)}`, { cause: error });
    }
  }

  async start(id: string): Promise<void> {
    try {
      await (await this.#docker()).getContainer(id).start();
    } catch (error) {
      // 304: already running, which is what was asked for.
      if (statusOf(error) === 304) return;
      throw new ExternalError(`cannot start container ${id.slice(0, 12)}: ${dockerReason(error)}`, { cause: error });
    }
  }

  async inspect(nameOrId: string): Promise<ContainerDetails | null> {
    try {
      const info = await this.#inspectRaw(nameOrId);
      return {
        id: info.Id,
        name: info.Name.replace(/^\//, ""),
        state: stateOf(info.State.Status),
        labels: info.Config.Labels,
        image: info.Config.Image,
        createdAt: info.Created,
        env: info.Config.Env,
        addresses: addressesOf(info),
      };
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw new ExternalError(`cannot inspect container ${nameOrId}: ${dockerReason(error)}`, { cause: error });
    }
  }

  async list(labels: Readonly<Record<string, string>>): Promise<readonly ContainerInfo[]> {
    try {
      const found = await this.#listRaw({ label: Object.entries(labels).map(([key, value]) => `${key}=${value}`) });
      return found.map((c) => ({
        id: c.Id,
        name: (c.Names[0] ?? c.Id).replace(/^\//, ""),
        state: stateOf(c.State),
        labels: c.Labels,
        image: c.Image,
        createdAt: new Date(c.Created * 1000).toISOString(),
      }));
    } catch (error) {
      throw new ExternalError(`cannot list containers: ${dockerReason(error)}`, { cause: error });
    }
  }

  // The lean client's answers are the Engine API's JSON, the same documents dockerode returns parsed, hence its types.
  async #inspectRaw(nameOrId: string): Promise<Docker.ContainerInspectInfo> {
    if (this.#http === null) return (await this.#docker()).getContainer(nameOrId).inspect();
    return (await this.#http.getJson(`/containers/${encodeURIComponent(nameOrId)}/json`)) as Docker.ContainerInspectInfo;
  }

  async #listRaw(filters: { label: string[] }): Promise<Docker.ContainerInfo[]> {
    if (this.#http === null) return (await this.#docker()).listContainers({ all: true, filters });
    const query = new URLSearchParams({ all: "1", filters: JSON.stringify(filters) });
    return (await this.#http.getJson(`/containers/json?${query.toString()}`)) as Docker.ContainerInfo[];
  }

  async exec(id: string, command: readonly string[], options: ExecOptions = {}): Promise<ExecOutcome> {
    const signal = options.signal;
    signal?.throwIfAborted();
    try {
      const docker = await this.#docker();
      const exec = await docker.getContainer(id).exec({ ...execBody(command, options), AttachStdout: true, AttachStderr: true });
      const stream = await exec.start({ hijack: true, stdin: false });
      const stdout = new Tail();
      const stderr = new Tail();
      const out = new PassThrough().on("data", (chunk: Buffer) => {
        stdout.add(chunk);
      });
      const err = new PassThrough().on("data", (chunk: Buffer) => {
        stderr.add(chunk);
      });
      docker.modem.demuxStream(stream, out, err);
      await streamEnded(stream, signal);
      return { exitCode: await execExitCode(docker, id, exec, signal), stdout: stdout.text(), stderr: stderr.text() };
    } catch (error) {
      if (signal?.aborted === true) throw error;
      throw new ExternalError(`cannot run ${command.join(" ")} in container ${id.slice(0, 12)}: ${dockerReason(error)}`, { cause: error });
    }
  }

  async execAttached(id: string, command: readonly string[], terminal: Terminal, options: ExecOptions = {}): Promise<number> {
    const docker = await this.#docker();
    const exec = await docker
      .getContainer(id)
      .exec({ ...execBody(command, options), AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: terminal.tty })
      .catch((error: unknown) => {
        throw new ExternalError(`cannot run ${command.join(" ")} in container ${id.slice(0, 12)}: ${dockerReason(error)}`, { cause: error });
      });
    const stream = await exec.start({ hijack: true, stdin: true, Tty: terminal.tty });
    // Listened for before anything else is awaited: a short command's output can end while the terminal is being
    // sized, and an end that came before its listener is never heard of (cspace then waited for ever).
    const ended = new Promise<void>((resolve) => {
      stream.on("end", resolve);
      stream.on("close", resolve);
      stream.on("error", () => {
        resolve();
      });
    });
    if (terminal.tty) {
      stream.pipe(terminal.stdout, { end: false });
      if (terminal.columns !== undefined && terminal.rows !== undefined) {
        // The shell starts at 80x24 unless told; a failure here only costs line wrapping.
        await exec.resize({ w: terminal.columns, h: terminal.rows }).catch(() => undefined);
      }
    } else {
      docker.modem.demuxStream(stream, terminal.stdout, terminal.stderr);
    }
    // With a TTY, the container's terminal echoes and edits what is typed, and ^C or ^D reach its shell as keys: the
    // local one passes keys through raw. Its end of input is not passed on: the engine stops copying a TTY exec's output
    // when its input ends, so a shell given its last lines and then EOF was cut off before it answered them.
    if (terminal.tty) terminal.setRawMode?.(true);
    try {
      terminal.stdin.pipe(stream, { end: !terminal.tty });
      await ended;
    } finally {
      terminal.stdin.unpipe(stream);
      if (terminal.tty) terminal.setRawMode?.(false);
    }
    try {
      return await execExitCode(docker, id, exec);
    } catch (error) {
      if (error instanceof ExternalError) throw error;
      throw new ExternalError(`cannot learn how ${command.join(" ")} ended in container ${id.slice(0, 12)}: ${dockerReason(error)}`, { cause: error });
    }
  }

  async execStream(id: string, command: readonly string[], options: ExecOptions = {}): Promise<ExecStream> {
    return startExecStream(await this.#docker(), id, command, options);
  }
  async removeVolume(name: string): Promise<boolean> {
    try {
      await (await this.#docker()).getVolume(name).remove();
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw new ExternalError(`cannot remove volume ${name}: ${dockerReason(error)}`, {
        cause: error,
        hint: statusOf(error) === 409 ? "A container still uses it: remove that container first (cspace down)." : undefined,
      });
    }
  }


  async listVolumes(labels: Readonly<Record<string, string>>): Promise<readonly VolumeInfo[]> {
    try {
      const found = await (await this.#docker()).listVolumes({ filters: { label: Object.entries(labels).map(([key, value]) => `${key}=${value}`) } });
      // Typed as always there, but an engine answers null for no volumes, and for a volume made without labels.
      const volumes = found.Volumes as readonly { readonly Name: string; readonly Labels: Record<string, string> | null }[] | null;
      return (volumes ?? []).map((volume) => ({ name: volume.Name, labels: volume.Labels ?? {} }));
    } catch (error) {
      throw new ExternalError(`cannot list volumes: ${dockerReason(error)}`, { cause: error });
    }
  }

  async execDetached(id: string, command: readonly string[], options: ExecOptions = {}): Promise<void> {
    try {
      const docker = await this.#docker();
      const exec = await docker.getContainer(id).exec({ ...execBody(command, options), AttachStdout: false, AttachStderr: false });
      const response: unknown = await exec.start({ Detach: true });
      // The engine answers a detached start at once, but the response is a stream: left open, its socket keeps cspace alive for minutes.
      if (response instanceof Readable) response.destroy();
    } catch (error) {
      throw new ExternalError(`cannot start ${command.join(" ")} in container ${id.slice(0, 12)}: ${dockerReason(error)}`, { cause: error });
    }
  }

  async copyIn(id: string, files: readonly FileToCopy[]): Promise<void> {
    try {
      const docker = await this.#docker();
      const archive = await tarOf(files);
      await docker.getContainer(id).putArchive(archive, { path: "/" });
    } catch (error) {
      throw new ExternalError(`cannot copy ${files.map((f) => f.path).join(", ")} into container ${id.slice(0, 12)}: ${dockerReason(error)}`, { cause: error });
    }
  }

  async watchStopped(labels: Readonly<Record<string, string>>, onStopped: (labels: Readonly<Record<string, string>>) => void): Promise<() => void> {
    try {
      return await watchStoppedContainers(await this.#docker(), labels, onStopped);
    } catch (error) {
      throw new ExternalError(`cannot follow the Docker engine's events: ${dockerReason(error)}`, { cause: error });
    }
  }

  async ensureNetwork(spec: NetworkCreateSpec): Promise<string> {
    return ensureNetwork(await this.#docker(), spec);
  }

  async listNetworks(labels: Readonly<Record<string, string>>): Promise<readonly NetworkInfo[]> {
    return listNetworks(await this.#docker(), labels);
  }

  async connectNetwork(network: string, container: string, aliases: readonly string[]): Promise<void> {
    return connectNetwork(await this.#docker(), network, container, aliases);
  }

  async removeNetwork(id: string): Promise<boolean> {
    return removeNetwork(await this.#docker(), id);
  }

  async logs(id: string, options: { readonly since?: string | undefined } = {}): Promise<string> {
    return containerLogs(await this.#docker(), id, options.since);
  }

  async remove(id: string): Promise<boolean> {
    try {
      await (await this.#docker()).getContainer(id).remove({ force: true, v: true });
      return true;
    } catch (error) {
      // 409 "removal already in progress" ends the same way as 404.
      if (statusOf(error) === 404 || statusOf(error) === 409) return false;
      throw new ExternalError(`cannot remove container ${id.slice(0, 12)}: ${dockerReason(error)}`, { cause: error });
    }
  }
}

/** An image reference in a URL path as the engine routes it: its slashes and the ":" and "@" of tags and digests kept. */
function pathOfReference(reference: string): string {
  return reference
    .split("/")
    .map((part) => encodeURIComponent(part).replaceAll("%3A", ":").replaceAll("%40", "@"))
    .join("/");
}

/**
 * dockerode and what it loads (ssh2, grpc-js, protobufjs), imported on first
 * use. `timeoutMs` bounds each request's idle time.
 */
async function loadDockerode(endpoint: DockerEndpoint, timeoutMs?: number): Promise<Docker> {
  const { default: Dockerode } = await import("dockerode");
  // docker-modem takes an http.Agent (`agent`), which dockerode's types leave out.
  const agent: { agent?: Agent } = endpoint.agent === undefined ? {} : { agent: endpoint.agent };
  return new Dockerode({ ...endpoint.options, ...agent, ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }) });
}

/** The spec's fields are the API's; only readonly arrays need copying for dockerode's types. */
function createBody(spec: ContainerCreateSpec): Docker.ContainerCreateOptions {
  const { HostConfig: host, Entrypoint: entrypoint, Cmd: cmd, ...rest } = spec;
  return {
    ...rest,
    Env: [...spec.Env],
    Labels: { ...spec.Labels },
    ...(entrypoint === undefined ? {} : { Entrypoint: [...entrypoint] }),
    ...(cmd === undefined ? {} : { Cmd: [...cmd] }),
    HostConfig: {
      ...host,
      Mounts: host.Mounts.map(mountBody),
      ...(host.CapAdd === undefined ? {} : { CapAdd: [...host.CapAdd] }),
      ...(host.CapDrop === undefined ? {} : { CapDrop: [...host.CapDrop] }),
      ...(host.SecurityOpt === undefined ? {} : { SecurityOpt: [...host.SecurityOpt] }),
    },
  };
}

/** A named volume's labels go with the mount: the engine makes the volume with them on first use. */
function mountBody(mount: DockerMount): Docker.MountSettings {
  const { VolumeOptions: volume, ...rest } = mount;
  if (volume === undefined) return { ...rest };
  return { ...rest, VolumeOptions: { NoCopy: false, Labels: { ...volume.Labels }, DriverConfig: { Name: "local", Options: {} } } };
}

function execBody(command: readonly string[], options: ExecOptions): Docker.ExecCreateOptions {
  return {
    Cmd: [...command],
    ...(options.user === undefined ? {} : { User: options.user }),
    ...(options.workdir === undefined ? {} : { WorkingDir: options.workdir }),
    ...(options.env === undefined ? {} : { Env: Object.entries(options.env).map(([key, value]) => `${key}=${value}`) }),
  };
}

function stateOf(status: string): ContainerState {
  return STATES.find((state) => state === status) ?? "dead";
}

/** The last KEEP_BYTES of a stream. */
class Tail {
  #chunks: Buffer[] = [];
  #bytes = 0;

  add(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    while (this.#bytes > KEEP_BYTES && this.#chunks.length > 1) {
      const dropped = this.#chunks.shift();
      this.#bytes -= dropped?.length ?? 0;
    }
  }

  text(): string {
    return Buffer.concat(this.#chunks).toString("utf8");
  }
}

/** Each network's IPv4 address, by network name; networks without one are left out. */
function addressesOf(info: Docker.ContainerInspectInfo): Record<string, string> {
  const networks = (info.NetworkSettings as { Networks?: Record<string, { IPAddress?: string } | undefined> } | undefined)?.Networks ?? {};
  return Object.fromEntries(Object.entries(networks).flatMap(([name, endpoint]) => (endpoint?.IPAddress === undefined || endpoint.IPAddress === "" ? [] : [[name, endpoint.IPAddress]])));
}
