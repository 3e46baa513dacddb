import { PassThrough } from "node:stream";
import type { ContainerCreateSpec } from "../../src/core/devcontainer/create-options.ts";
import { ExternalError } from "../../src/core/errors.ts";
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
} from "../../src/core/instances/ports.ts";

export interface FakeContainer {
  readonly id: string;
  readonly spec: ContainerCreateSpec;
  state: ContainerInfo["state"];
  readonly createdAt: string;
  /** Files the container's commands wrote, by path (enough for warm's markers). */
  readonly files: Set<string>;
  /** Files copied in, by path. */
  readonly copied: Map<string, { readonly content: string; readonly mode: number }>;
}

export interface ExecCall {
  readonly container: FakeContainer;
  readonly command: readonly string[];
  readonly options: ExecOptions;
  /** What an `execStream` caller wrote to the command's input, once it ended it. */
  readonly stdin?: string | undefined;
}

/** Answers one exec; return undefined to fall through to the default answers. */
export type ExecHandler = (call: ExecCall) => ExecOutcome | Promise<ExecOutcome> | undefined;

const ok = (stdout = ""): ExecOutcome => ({ exitCode: 0, stdout, stderr: "" });

/**
 * An in-memory container engine. By default every command warm runs
 * succeeds the way a healthy base image answers it (the container user is the
 * current user, so nothing is chowned; git is at the commit the container was
 * made for; node is v18). `onExec` scripts other answers; `calls` records
 * every operation for assertions.
 */
export class FakeContainerRuntime implements ContainerRuntime {
  readonly endpoint = "fake://engine";
  readonly containers = new Map<string, FakeContainer>();
  readonly images = new Set<string>(["cspace-base:bookworm"]);
  readonly calls: string[] = [];
  readonly execs: ExecCall[] = [];
  #next = 1;
  static #engineCount = 0;
  readonly #engine = ++FakeContainerRuntime.#engineCount;
  #handlers: ExecHandler[] = [];
  /** Execs still running, by container: removing a container ends them, as on a real engine. */
  readonly #running = new Map<string, Set<(error: Error) => void>>();
  readonly #watchers = new Set<{ labels: Readonly<Record<string, string>>; onStopped: (labels: Readonly<Record<string, string>>) => void }>();
  /** Networks by name, with the containers attached and their aliases. */
  readonly networks = new Map<string, { readonly id: string; readonly spec: NetworkCreateSpec; readonly members: Map<string, readonly string[]> }>();
  /** What each container's main process "wrote" to stdout, by id: tests add lines. */
  readonly logLines = new Map<string, string[]>();
  /** Set to make ping fail as an engine that is down would. */
  down = false;

  /** Answers execs before the defaults; the newest handler is asked first. */
  onExec(handler: ExecHandler): this {
    this.#handlers.unshift(handler);
    return this;
  }

  ping(): Promise<void> {
    this.calls.push("ping");
    if (this.down) return Promise.reject(new ExternalError("cannot reach the Docker engine at fake://engine", { hint: "start it" }));
    return Promise.resolve();
  }

  engineInfo(): Promise<EngineInfo> {
    if (this.down) return Promise.reject(new ExternalError("no Docker engine at fake://engine: the socket does not exist"));
    return Promise.resolve({ version: "20.10.24", apiVersion: "1.41" });
  }

  imageInfo(reference: string): Promise<ImageInfo | null> {
    return Promise.resolve(this.images.has(reference) ? { id: `sha256:${"8eab8b6af0b2".padEnd(64, "0")}`, sizeBytes: 443_000_000 } : null);
  }

  hasImage(reference: string): Promise<boolean> {
    return Promise.resolve(this.images.has(reference));
  }

  pullImage(reference: string): Promise<void> {
    this.calls.push(`pull ${reference}`);
    this.images.add(reference);
    return Promise.resolve();
  }

  buildImage(build: ImageBuild): Promise<void> {
    this.calls.push(`build ${build.tag}`);
    this.images.add(build.tag);
    return Promise.resolve();
  }

  create(spec: ContainerCreateSpec): Promise<string> {
    this.calls.push(`create ${spec.name}`);
    if ([...this.containers.values()].some((c) => c.spec.name === spec.name)) {
      return Promise.reject(new ExternalError(`a container named ${spec.name} already exists`));
    }
    if (!this.images.has(spec.Image)) return Promise.reject(new ExternalError(`no such image: ${spec.Image}`));
    // Unique across fake engines too, as a real engine's random ids are: list tells containers of two hosts apart by id.
    const id = `fake${String(this.#engine)}x${String(this.#next++).padStart(8, "0")}`;
    for (const mount of spec.HostConfig.Mounts) {
      if (mount.Type !== "volume" || this.volumes.has(mount.Source)) continue;
      this.volumes.add(mount.Source);
      // As the engine does: the labels of the mount that made the volume stay with it.
      this.volumeLabels.set(mount.Source, { ...mount.VolumeOptions?.Labels });
    }
    this.containers.set(id, { id, spec, state: "created", createdAt: new Date().toISOString(), files: new Set(), copied: new Map() });
    return Promise.resolve(id);
  }

  start(id: string): Promise<void> {
    this.calls.push(`start ${id}`);
    return settled(() => {
      this.#get(id).state = "running";
    });
  }

  inspect(nameOrId: string): Promise<ContainerDetails | null> {
    const found = this.#find(nameOrId);
    return Promise.resolve(found === undefined ? null : { ...infoOf(found), env: found.spec.Env });
  }

  list(labels: Readonly<Record<string, string>>): Promise<readonly ContainerInfo[]> {
    const matches = [...this.containers.values()].filter((c) => Object.entries(labels).every(([k, v]) => c.spec.Labels[k] === v));
    return Promise.resolve(matches.map(infoOf));
  }

  exec(id: string, command: readonly string[], options: ExecOptions = {}): Promise<ExecOutcome> {
    return this.#exec(id, command, options, undefined);
  }

  /** The input is taken whole, then the command answers as `exec` would: enough for request-and-answer protocols. */
  execStream(id: string, command: readonly string[], options: ExecOptions = {}): Promise<ExecStream> {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const chunks: Buffer[] = [];
    stdin.on("data", (chunk: Buffer) => chunks.push(chunk));
    const exit = new Promise<void>((resolve) => stdin.on("end", resolve)).then(async () => {
      const outcome = await this.#exec(id, command, options, Buffer.concat(chunks).toString("utf8"));
      stdout.end(outcome.stdout);
      stderr.end(outcome.stderr);
      return outcome.exitCode;
    });
    exit.catch(() => {
      stdout.end();
      stderr.end();
    });
    return Promise.resolve({
      stdin,
      stdout,
      stderr,
      exit,
      close: () => {
        stdin.destroy();
        stdout.end();
        stderr.end();
      },
    });
  }

  async #exec(id: string, command: readonly string[], options: ExecOptions, stdin: string | undefined): Promise<ExecOutcome> {
    options.signal?.throwIfAborted();
    const container = this.#get(id);
    if (container.state !== "running") throw new ExternalError(`container ${id} is not running`);
    const call: ExecCall = { container, command, options, stdin };
    this.execs.push(call);
    for (const handler of this.#handlers) {
      const answer = handler(call);
      if (answer !== undefined) return this.#track(container.id, abortable(answer, options.signal));
    }
    return defaultAnswer(call);
  }

  execDetached(id: string, command: readonly string[], options: ExecOptions = {}): Promise<void> {
    this.calls.push(`detach ${command.join(" ")}`);
    // Started and left running: its outcome is not waited for.
    void this.exec(id, command, options).catch(() => undefined);
    return Promise.resolve();
  }

  copyIn(id: string, files: readonly FileToCopy[]): Promise<void> {
    return settled(() => {
      const container = this.#get(id);
      for (const file of files) {
        container.files.add(file.path);
        container.copied.set(file.path, { content: String(file.content), mode: file.mode });
      }
    });
  }

  execAttached(id: string, command: readonly string[], _terminal: Terminal, options: ExecOptions = {}): Promise<number> {
    return this.exec(id, command, options).then((outcome) => outcome.exitCode);
  }

  remove(id: string): Promise<boolean> {
    this.calls.push(`remove ${id}`);
    const found = this.#find(id);
    if (found === undefined) return Promise.resolve(false);
    this.containers.delete(found.id);
    found.state = "dead";
    for (const end of this.#running.get(found.id) ?? []) end(new ExternalError(`container ${found.id} was removed while the command ran`));
    this.#stopped(found);
    return Promise.resolve(true);
  }

  watchStopped(labels: Readonly<Record<string, string>>, onStopped: (labels: Readonly<Record<string, string>>) => void): Promise<() => void> {
    const watcher = { labels, onStopped };
    this.#watchers.add(watcher);
    return Promise.resolve(() => {
      this.#watchers.delete(watcher);
    });
  }

  ensureNetwork(spec: NetworkCreateSpec): Promise<string> {
    this.calls.push(`ensureNetwork ${spec.Name}`);
    const found = this.networks.get(spec.Name);
    if (found !== undefined) return Promise.resolve(found.id);
    const id = `net${String(this.#next++)}`;
    this.networks.set(spec.Name, { id, spec, members: new Map() });
    return Promise.resolve(id);
  }

  listNetworks(labels: Readonly<Record<string, string>>): Promise<readonly NetworkInfo[]> {
    const matching = [...this.networks.values()].filter((n) => Object.entries(labels).every(([key, value]) => n.spec.Labels[key] === value));
    return Promise.resolve(matching.map((n) => ({ id: n.id, name: n.spec.Name, labels: n.spec.Labels })));
  }

  connectNetwork(network: string, container: string, aliases: readonly string[]): Promise<void> {
    this.calls.push(`connectNetwork ${network} ${container}`);
    const found = [...this.networks.values()].find((n) => n.id === network || n.spec.Name === network);
    if (found === undefined) return Promise.reject(new ExternalError(`no such network: ${network}`));
    return settled(() => {
      found.members.set(this.#get(container).id, aliases);
    });
  }

  /** Named volumes, as mounts made them (a mount of a volume not here makes it, as the engine does). */
  readonly volumes = new Set<string>();
  /** Each volume's labels, from the mount that made it. */
  readonly volumeLabels = new Map<string, Readonly<Record<string, string>>>();

  removeVolume(name: string): Promise<boolean> {
    this.calls.push(`removeVolume ${name}`);
    this.volumeLabels.delete(name);
    return Promise.resolve(this.volumes.delete(name));
  }

  listVolumes(labels: Readonly<Record<string, string>>): Promise<readonly VolumeInfo[]> {
    const matching = [...this.volumes].map((name) => ({ name, labels: this.volumeLabels.get(name) ?? {} })).filter((volume) => Object.entries(labels).every(([key, value]) => volume.labels[key] === value));
    return Promise.resolve(matching);
  }

  removeNetwork(id: string): Promise<boolean> {
    this.calls.push(`removeNetwork ${id}`);
    const found = [...this.networks.values()].find((n) => n.id === id || n.spec.Name === id);
    if (found === undefined) return Promise.resolve(false);
    this.networks.delete(found.spec.Name);
    return Promise.resolve(true);
  }

  logs(id: string): Promise<string> {
    return settled(() => this.logLines.get(this.#get(id).id)?.join("") ?? "");
  }

  /** The container stops as `docker kill` would stop it: its execs end, watchers hear of it. */
  kill(nameOrId: string): void {
    const found = this.#get(nameOrId);
    found.state = "exited";
    for (const end of this.#running.get(found.id) ?? []) end(new ExternalError(`container ${found.id} stopped while the command ran`));
    this.#stopped(found);
  }

  #stopped(container: FakeContainer): void {
    const labels = container.spec.Labels;
    for (const watcher of this.#watchers) {
      if (Object.entries(watcher.labels).every(([key, value]) => labels[key] === value)) watcher.onStopped(labels);
    }
  }

  /** Containers by instance label, for assertions. */
  instances(): string[] {
    return [...this.containers.values()].map((c) => c.spec.Labels["dev.cspace.instance"] ?? c.spec.name).sort();
  }

  #track(id: string, running: Promise<ExecOutcome>): Promise<ExecOutcome> {
    const ends = this.#running.get(id) ?? new Set();
    this.#running.set(id, ends);
    return new Promise<ExecOutcome>((resolve, reject) => {
      const end = (error: Error): void => {
        reject(error);
      };
      ends.add(end);
      running.then(resolve, reject).finally(() => ends.delete(end));
    });
  }

  #find(nameOrId: string): FakeContainer | undefined {
    return this.containers.get(nameOrId) ?? [...this.containers.values()].find((c) => c.spec.name === nameOrId);
  }

  #get(id: string): FakeContainer {
    const found = this.#find(id);
    if (found === undefined) throw new ExternalError(`no such container: ${id}`);
    return found;
  }
}

function infoOf(c: FakeContainer): ContainerInfo {
  return { id: c.id, name: c.spec.name, state: c.state, labels: c.spec.Labels, image: c.spec.Image, createdAt: c.createdAt };
}

/** What `work` returns, or its error as a rejection: a real runtime's failures arrive as rejected promises, never as throws. */
function settled<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** An exec blocked in a handler ends when its signal aborts, as a real exec's stream would. */
async function abortable(answer: ExecOutcome | Promise<ExecOutcome>, signal: AbortSignal | undefined): Promise<ExecOutcome> {
  if (signal === undefined) return answer;
  return Promise.race([
    Promise.resolve(answer),
    new Promise<never>((_, reject) => {
      const abort = (): void => {
        reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
      };
      if (signal.aborted) abort();
      else signal.addEventListener("abort", abort, { once: true });
    }),
  ]);
}

function defaultAnswer({ container, command }: ExecCall): ExecOutcome {
  const line = command.join(" ");
  const uid = String(process.getuid?.() ?? 1000);
  const gid = String(process.getgid?.() ?? 1000);
  if (line.includes("id -u; id -g")) return ok(`${uid}\n${gid}\n`);
  if (line.includes("git log -1")) return ok(`${container.spec.Labels["dev.cspace.commit"] ?? ""}\n`);
  if (command[0] === "node") return ok("v18.20.4\n");
  const marker = /> (\/var\/lib\/cspace\/\S+)$/.exec(line);
  if (marker?.[1] !== undefined) {
    container.files.add(marker[1]);
    return ok();
  }
  if (command[0] === "test" && command[1] === "-f") {
    return container.files.has(command[2] ?? "") ? ok() : { exitCode: 1, stdout: "", stderr: "" };
  }
  return ok();
}
