/**
 * What the instance services need from the outside world, owned by core so
 * the services never see dockerode or git. The container side is written so
 * another implementation (a remote engine over ssh or TLS, a Kubernetes pod
 * per worker) can stand behind it: containers are named by opaque ids,
 * found by labels, and reached only through exec — nothing here assumes the
 * runtime shares a filesystem or a process table with cspace.
 */

import type { ContainerCreateSpec } from "../devcontainer/create-options.ts";

export type ContainerState = "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";

export interface ContainerInfo {
  readonly id: string;
  readonly name: string;
  readonly state: ContainerState;
  readonly labels: Readonly<Record<string, string>>;
  /** The image reference the container was created from. */
  readonly image: string;
  /** ISO 8601. */
  readonly createdAt: string;
}

export interface ContainerDetails extends ContainerInfo {
  /** The container's environment, `KEY=VALUE`. */
  readonly env: readonly string[];
  /** Its IPv4 address on each network it is on, by network name (who a denial of the egress proxy came from). */
  readonly addresses?: Readonly<Record<string, string>> | undefined;
}

/** An image to build from a context the runtime is sent (as a tar), tagged so it is reused. */
export interface ImageBuild {
  readonly tag: string;
  /** The directory sent as the build context. */
  readonly contextDir: string;
  /** The Dockerfile, relative to contextDir. */
  readonly dockerfile: string;
  readonly args: Readonly<Record<string, string>>;
  readonly target?: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ExecOptions {
  /** User name or uid[:gid]; the container's default when omitted. */
  readonly user?: string | undefined;
  readonly workdir?: string | undefined;
  readonly env?: Readonly<Record<string, string>> | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface FileToCopy {
  /** Absolute path in the container. */
  readonly path: string;
  readonly content: Buffer | string;
  /** Permission bits, like 0o755. */
  readonly mode: number;
}

export interface ExecOutcome {
  readonly exitCode: number;
  /** Demultiplexed; long output keeps its tail. */
  readonly stdout: string;
  readonly stderr: string;
}

/** The terminal a person typed `cspace exec` in. */
export interface Terminal {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Whether stdin is a terminal: then the exec gets a TTY, sized like it. */
  readonly tty: boolean;
  readonly columns?: number | undefined;
  readonly rows?: number | undefined;
  /** Switches the local terminal to passing keys through as typed (and back), while a TTY exec runs. */
  readonly setRawMode?: ((raw: boolean) => void) | undefined;
}

/**
 * A command running in a container with its standard streams joined to
 * cspace's: how git's pack protocol and the message relay reach a worker on
 * an engine that shares no filesystem with the host.
 */
export interface ExecStream {
  /** The command's standard input; `end()` closes it, and the command sees end of input. */
  readonly stdin: NodeJS.WritableStream;
  readonly stdout: NodeJS.ReadableStream;
  readonly stderr: NodeJS.ReadableStream;
  /** The command's exit code once its output ended; an ExternalError when the engine cannot say. */
  readonly exit: Promise<number>;
  /** Drops the connection at once (the command inside goes on until its input or output fails). */
  close(): void;
}

export interface EngineInfo {
  readonly version: string;
  readonly apiVersion: string;
}

export interface ImageInfo {
  readonly id: string;
  readonly sizeBytes: number;
}

/** A network to make: a mirror of the Engine API's `NetworkCreate` body. */
export interface NetworkCreateSpec {
  readonly Name: string;
  /** No route out: containers on it reach only each other. */
  readonly Internal: boolean;
  readonly Labels: Readonly<Record<string, string>>;
  /** Driver options, like `com.docker.network.bridge.inhibit_ipv4`. */
  readonly Options?: Readonly<Record<string, string>>;
}

export interface NetworkInfo {
  readonly id: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** A named volume (a remote worker's checkout, a host's mirror). */
export interface VolumeInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ContainerRuntime {
  /** Where the engine is, as a person would write it (for messages). */
  readonly endpoint: string;
  /** Throws an ExternalError with a hint when the engine does not answer. */
  ping(): Promise<void>;
  /** What the engine is (doctor); an ExternalError naming the endpoint when nothing answers. */
  engineInfo(): Promise<EngineInfo>;
  /** The image with this reference, or null when the engine has none. */
  imageInfo(reference: string): Promise<ImageInfo | null>;
  hasImage(reference: string): Promise<boolean>;
  /** Fetches an image the engine does not have from its registry. */
  pullImage(reference: string, signal?: AbortSignal): Promise<void>;
  buildImage(build: ImageBuild, signal?: AbortSignal): Promise<void>;
  /** Returns the new container's id. */
  create(spec: ContainerCreateSpec): Promise<string>;
  start(id: string): Promise<void>;
  /** null when there is no such container. */
  inspect(nameOrId: string): Promise<ContainerDetails | null>;
  /** Containers (running or not) carrying every one of these labels. */
  list(labels: Readonly<Record<string, string>>): Promise<readonly ContainerInfo[]>;
  exec(id: string, command: readonly string[], options?: ExecOptions): Promise<ExecOutcome>;
  /**
   * Starts a command and returns at once, leaving it running in the container
   * after cspace exits (the supervisor). Its output goes nowhere: it logs to files.
   */
  execDetached(id: string, command: readonly string[], options?: ExecOptions): Promise<void>;
  /** Writes files into the container (an archive the engine unpacks at `/`), owned by root, with their modes. */
  copyIn(id: string, files: readonly FileToCopy[]): Promise<void>;
  /** Runs a command attached to a terminal; resolves to its exit code. */
  execAttached(id: string, command: readonly string[], terminal: Terminal, options?: ExecOptions): Promise<number>;
  /** Removes (forcibly, with its anonymous volumes); false when it was already gone. */
  remove(id: string): Promise<boolean>;
  /**
   * Calls `onStopped` with the labels of every container carrying these
   * labels that stops, dies or is removed from now on (the engine's event
   * stream), until the returned function is called. Best effort: when the
   * stream breaks (the engine restarts) watching ends quietly, so callers
   * keep a slower check of their own.
   */
  watchStopped(labels: Readonly<Record<string, string>>, onStopped: (labels: Readonly<Record<string, string>>) => void): Promise<() => void>;
  /** The network of that name, made when there is none; its id. */
  ensureNetwork(spec: NetworkCreateSpec): Promise<string>;
  /** Networks carrying every one of these labels. */
  listNetworks(labels: Readonly<Record<string, string>>): Promise<readonly NetworkInfo[]>;
  /** Attaches a container to a network, reachable there under `aliases`; nothing when it is attached already. */
  connectNetwork(network: string, container: string, aliases: readonly string[]): Promise<void>;
  /** Removes a network (its containers gone first); false when it was already gone. */
  removeNetwork(id: string): Promise<boolean>;
  /** What the container's main process wrote to stdout, since `since` (ISO 8601) when given. */
  logs(id: string, options?: { readonly since?: string | undefined }): Promise<string>;
  /** Starts a command with its stdin, stdout and stderr streamed; resolves once it runs. */
  execStream(id: string, command: readonly string[], options?: ExecOptions): Promise<ExecStream>;
  /**
   * Removes a named volume (a remote worker's checkout, a host's mirror);
   * false when it was already gone. Remove the containers that mount it
   * first: Docker refuses a volume in use, Kubernetes deletes its claim only
   * once those pods are gone.
   */
  removeVolume(name: string): Promise<boolean>;
  /** Named volumes carrying every one of these labels (what `down --all` removes on each host). */
  listVolumes(labels: Readonly<Record<string, string>>): Promise<readonly VolumeInfo[]>;
}

/**
 * Where every container sees the project's object store, read-only: the
 * checkout's `origin`, so an agent can `git fetch origin` the branches cspace
 * brought in (a rebase onto a freshly merged base). Outside /root and any
 * home, so a non-root container user can reach it.
 */
export const STORE_IN_CONTAINER = "/var/lib/cspace/store.git";

/** One instance's git checkout, and how a container reaches it. */
export interface Workspace {
  readonly instance: string;
  /** Where the checkout is, for the runtime to mount. */
  readonly path: string;
  /** Further read-only mounts git inside the container needs (the shared object store). */
  readonly supportMounts: readonly { readonly source: string; readonly target: string }[];
}

export interface WorkspaceStore {
  /** Where the instance's checkout is (or would be) on the host: `${localWorkspaceFolder}`. */
  pathOf(instance: string): string;
  /** The project's object store on this machine: what the workspace transport pushes to another host's mirror. */
  readonly storePath: string;
  /** What a fresh checkout's git config holds (`cspace.base`, the user's identity), for a checkout made on another host. */
  checkoutConfig(base: string): Promise<Readonly<Record<string, string>>>;
  /**
   * The branch workspaces start from when none is named: the user's
   * repository's default. A UserError when the project is no git repository
   * with a commit, so warm refuses before it makes anything.
   */
  defaultBranch(): Promise<string>;
  /** Brings the shared store up to date with the user's repository; the commit `base` names there. */
  resolveBase(base: string, signal?: AbortSignal): Promise<string>;
  /** A fresh checkout of `commit` on a branch for the instance; replaces a leftover one. */
  create(instance: string, base: string, commit: string, signal?: AbortSignal): Promise<Workspace>;
  find(instance: string): Promise<Workspace | null>;
  /** false when there was none. */
  remove(instance: string): Promise<boolean>;
  /** Gives the checkout to the container's user (uid:gid), so git inside can write. */
  handOver(workspace: Workspace, uid: number, gid: number): Promise<void>;
  /** How many object files the checkout shares with the store (hard links a checkout of an older cspace has); 0 without one. */
  sharedObjectFiles(instance: string): Promise<number>;
  /**
   * Moves a checkout an older cspace made (`clone --local`) onto the store's
   * read-only mount, keeping everything it holds: its links to the store's
   * object files are dropped (the store has them) and it borrows them
   * through alternates. Only while no container uses the checkout.
   */
  borrowStore(instance: string): Promise<void>;
}

/**
 * One lock per instance across cspace processes, so two commands never work
 * on one instance at once. `down` wins over `warm`: it asks the holder to
 * stop, and the holder checks between steps and gives up without recreating.
 */
export interface InstanceLocks {
  /** Runs `work` holding the instance's lock, waiting for another holder first. */
  withLock<T>(instance: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Whether a command holds the instance now (read-only: creates nothing). */
  held(instance: string): Promise<boolean>;
  /** Marks the instance as being removed; a warm holding it stops at its next step. */
  requestRemoval(instance: string): Promise<void>;
  removalRequested(instance: string): Promise<boolean>;
  clearRemoval(instance: string): Promise<void>;
}
