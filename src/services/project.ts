import os from "node:os";
import path from "node:path";
import type { BranchMover } from "../core/branches/port.ts";
import type { OperatorChannel, WorkerPool } from "../core/coordinator-runtime/ports.ts";
import type { CoordinatorLock, EventStore } from "../core/coordinator-store/port.ts";
import type { Forge } from "../core/forge/port.ts";
import type { Host } from "../core/host.ts";
import { InternalError } from "../core/errors.ts";
import { onlyTheLocalHost, workerHosts, type WorkerHost } from "../core/hosts/hosts.ts";
import type { HostConnection, HostRuntimes } from "../core/hosts/ports.ts";
import type { ContainerRuntime, InstanceLocks, WorkspaceStore } from "../core/instances/ports.ts";
import { projectId, runDirFor, type RunDir } from "../core/run-dir.ts";
import type { TransportHost, WorkspaceTransport } from "../core/workspaces/transport.ts";
import { loadConfig, type LoadConfigOptions, type LoadedConfig } from "./config.ts";
import { closeWhenCommandEnds } from "./open-connections.ts";

/**
 * The composition root: the one place that opens a project and builds the
 * ports its services use. Real adapters are the default; a test replaces any
 * of them (test/fakes/ports.ts) and gets every other one real.
 *
 * Ports are built on first use and each adapter module is imported only then,
 * so `cspace plan` never loads dockerode and `cspace list` never loads octokit.
 */

/** A project as the services see it: configuration and where its files live, no connections yet. */
export interface Project {
  readonly config: LoadedConfig["config"];
  readonly projectDir: string;
  /** Config files found, lowest precedence first. */
  readonly files: readonly string[];
  readonly projectId: string;
  /** The host directory holding one subdirectory per instance (sockets, outboxes, events). */
  readonly runDir: string;
  /** How runDir was chosen, and which folders cspace makes for it (checked for ownership and mode). */
  readonly runDirSpec: RunDir;
  readonly env: NodeJS.ProcessEnv;
}

/** What a port needs that exists before any project does (doctor builds these even when the config is invalid). */
export interface HostContext {
  readonly env: NodeJS.ProcessEnv;
}

/** Builders of each port from the project; the defaults load the real adapters. */
export interface PortFactories {
  /** The local engine (DOCKER_HOST, else the default socket). */
  runtime(context: HostContext): ContainerRuntime | Promise<ContainerRuntime>;
  /**
   * Opens a configured host that is not the local engine (the local one is
   * `runtime`): a Docker engine by address, over SSH, or Kubernetes.
   */
  hostRuntime(host: WorkerHost, context: HostContext): HostConnection | Promise<HostConnection>;
  host(context: HostContext): Host | Promise<Host>;
  workspaces(project: Project): WorkspaceStore | Promise<WorkspaceStore>;
  /** How workers on a host that shares no folder with this machine get their checkout and give back their branch. The caller closes it. */
  transport(project: Project, host: TransportHost): WorkspaceTransport | Promise<WorkspaceTransport>;
  forge(project: Project): Forge | Promise<Forge>;
  locks(project: Project): InstanceLocks | Promise<InstanceLocks>;
  /** The coordinator's event log (opened, not created: the file appears on the first write). */
  eventStore(project: Project): EventStore | Promise<EventStore>;
  coordinatorLock(project: Project): CoordinatorLock | Promise<CoordinatorLock>;
  /** Pushes, fetches and restacks on the forge's remote from the host (the coordinator's git side). */
  branches(project: Project): BranchMover | Promise<BranchMover>;
  /** The coordinator's workers; given the opened project, since the real pool drives containers through its other ports. */
  workers(project: OpenedProject): WorkerPool | Promise<WorkerPool>;
  /** Where a person's commands reach the running coordinator (`cspace send _coordinator` on the host). */
  operator(project: Project): OperatorChannel | Promise<OperatorChannel>;
}

export type PortOverrides = Partial<PortFactories>;

/** The factories in use: the real ones with the given ones in their place. */
export function portFactories(overrides: PortOverrides = {}): PortFactories {
  return { ...realPorts, ...overrides };
}

/** Each port, built once, on first call. */
export interface Ports {
  /**
   * The engine workers run on, checked to answer (an ExternalError with a
   * hint, exit 3, when it does not). With the default hosts, the local
   * engine; once workers.hosts names another host, one runtime over every
   * host (adapters/hosts/routed-runtime.ts) built on `hosts()`, so a command
   * reaches a worker wherever it runs, over the same connections.
   */
  runtime(): Promise<ContainerRuntime>;
  /** The engine on this machine, checked to answer: what is per machine, and the local host's engine in `hosts()`. */
  localRuntime(): Promise<ContainerRuntime>;
  /** The engine of each configured host (workers.hosts), opened on first use; the local host's is `localRuntime()`. */
  hosts(): Promise<HostRuntimes>;
  /**
   * Lets go of every host connection opened (an SSH connection keeps the
   * process alive); safe to call twice, and a later use opens again. The CLI
   * calls it for every project when a command ends (./open-connections.ts).
   */
  close(): Promise<void>;
  workspaces(): Promise<WorkspaceStore>;
  /** A new workspace transport for the host (each holds its own mirror keeper until closed). */
  transport(host: TransportHost): Promise<WorkspaceTransport>;
  forge(): Promise<Forge>;
  locks(): Promise<InstanceLocks>;
  eventStore(): Promise<EventStore>;
  coordinatorLock(): Promise<CoordinatorLock>;
  branches(): Promise<BranchMover>;
  workers(): Promise<WorkerPool>;
  operator(): Promise<OperatorChannel>;
}

export interface OpenedProject extends Project {
  readonly ports: Ports;
}

export interface OpenProjectOptions extends LoadConfigOptions {
  /** Replacements for real adapters (tests, or a caller that already holds one). */
  readonly ports?: PortOverrides | undefined;
}

export async function openProject(options: OpenProjectOptions): Promise<OpenedProject> {
  const { config, projectDir, files } = await loadConfig(options);
  const runDir = runDirFor({ env: options.env, projectName: config.project.name, projectDir, uid: process.getuid?.(), tmpdir: os.tmpdir() });
  const project: Project = {
    config,
    projectDir,
    files,
    projectId: projectId(config.project.name, projectDir),
    runDir: runDir.path,
    runDirSpec: runDir,
    env: options.env,
  };
  const factories = portFactories(options.ports);
  const opened: { -readonly [K in keyof OpenedProject]: OpenedProject[K] } = { ...project, ports: undefined as unknown as Ports };
  opened.ports = lazyPorts(project, factories, () => opened);
  return opened;
}

function lazyPorts(project: Project, factories: PortFactories, opened: () => OpenedProject): Ports {
  const once = <T>(build: () => Promise<T>): (() => Promise<T>) => {
    let built: Promise<T> | undefined;
    return () => (built ??= build());
  };
  const localRuntime = once(async () => {
    const built = await factories.runtime(project);
    await built.ping();
    return built;
  });
  let hostsBuilt: Promise<HostRuntimes> | undefined;
  let release: (() => void) | undefined;
  const hosts = (): Promise<HostRuntimes> =>
    (hostsBuilt ??= (async () => {
      const { hostRuntimes } = await import("./hosts.ts");
      const built = hostRuntimes(workerHosts(project.config), { local: localRuntime, open: (host) => factories.hostRuntime(host, project) });
      release = closeWhenCommandEnds(() => built.close());
      return built;
    })());
  // The local host's engine in hosts() is localRuntime, never this one: the routed runtime is built over hosts(), not in it.
  const runtime = once(async () => {
    if (onlyTheLocalHost(workerHosts(project.config))) return localRuntime();
    const [{ RoutedRuntime }, built] = await Promise.all([import("../adapters/hosts/routed-runtime.ts"), hosts()]);
    const routed = new RoutedRuntime(built);
    await routed.ping();
    return routed;
  });
  return {
    runtime,
    localRuntime,
    hosts,
    async close() {
      release?.();
      release = undefined;
      // Only what was opened: a command that never asked for a host has none to close.
      if (hostsBuilt !== undefined) await (await hostsBuilt).close();
    },
    workspaces: once(async () => factories.workspaces(project)),
    transport: async (host) => factories.transport(project, host),
    forge: once(async () => factories.forge(project)),
    locks: once(async () => factories.locks(project)),
    eventStore: once(async () => factories.eventStore(project)),
    coordinatorLock: once(async () => factories.coordinatorLock(project)),
    branches: once(async () => factories.branches(project)),
    workers: once(async () => factories.workers(opened())),
    operator: once(async () => factories.operator(project)),
  };
}

/** The real adapters, each module imported when its port is first asked for. */
export const realPorts: PortFactories = {
  async runtime(context) {
    const { DockerRuntime } = await import("../adapters/docker/containers.ts");
    return new DockerRuntime(context.env);
  },
  async hostRuntime(host, context) {
    const settings = host.settings;
    if (host.kind === "docker" && settings.docker !== undefined) {
      const { DockerRuntime } = await import("../adapters/docker/containers.ts");
      // The host's address in place of DOCKER_HOST; DOCKER_TLS_VERIFY and DOCKER_CERT_PATH still say how to speak TLS to a tcp:// one.
      return { runtime: new DockerRuntime({ ...context.env, DOCKER_HOST: settings.docker }), close: () => Promise.resolve() };
    }
    if (host.kind === "kubernetes" && settings.kubernetes !== undefined) {
      const { openKubernetesRuntime } = await import("../adapters/kubernetes/runtime.ts");
      const { context: kubeContext, namespace, kubeconfig, sharedStorageClass } = settings.kubernetes;
      // The kubeconfig kubectl would read, from the project's environment rather than this process's.
      const file = kubeconfig ?? context.env.KUBECONFIG;
      return { runtime: openKubernetesRuntime({ name: host.name, context: kubeContext, namespace, kubeconfig: file, sharedStorageClass }), close: () => Promise.resolve() };
    }
    if (host.kind === "ssh" && settings.docker !== undefined) {
      // One SSH connection per host, every engine request a channel on it (adapters/docker/ssh); ssh2 loads only here.
      const { openSshRuntime } = await import("../adapters/docker/ssh/runtime.ts");
      const opened = await openSshRuntime({ name: host.name, endpoint: settings.docker, ssh: settings.ssh, env: context.env });
      return { runtime: opened.runtime, close: () => opened.close() };
    }
    throw new InternalError(`host ${host.name} (${host.kind}) has no engine address: the configuration check should have refused it`);
  },
  async host() {
    const { systemHost } = await import("../adapters/host.ts");
    return systemHost();
  },
  async workspaces(project) {
    const { GitWorkspaces, dataDirFor } = await import("../adapters/git/workspaces.ts");
    return new GitWorkspaces({ projectDir: project.projectDir, dataDir: dataDirFor(project.env), projectId: project.projectId });
  },
  async transport(project, host) {
    const [{ createRemoteTransport }, { GitWorkspaces, dataDirFor }] = await Promise.all([import("../adapters/git/transport/remote-transport.ts"), import("../adapters/git/workspaces.ts")]);
    const dataDir = dataDirFor(project.env);
    const store = new GitWorkspaces({ projectDir: project.projectDir, dataDir, projectId: project.projectId }).storePath;
    // Quarantines live beside the store they borrow from: collected work must survive a reboot as the store does.
    // A pod cannot be without the cluster's network: a Kubernetes host's keeper has it (its egress is the namespace's NetworkPolicy's).
    const kubernetes = workerHosts(project.config).find((candidate) => candidate.name === host.name)?.kind === "kubernetes";
    return createRemoteTransport({
      runtime: host.runtime,
      hostName: host.name,
      projectId: project.projectId,
      store,
      scratchDir: path.join(dataDir, project.projectId, "transport"),
      keeperImage: host.keeperImage,
      keeperWithoutNetwork: !kubernetes,
    });
  },
  async forge(project) {
    const { openForge } = await import("./forge.ts");
    return openForge({ config: project.config, projectDir: project.projectDir, env: project.env });
  },
  async locks(project) {
    const [{ FileInstanceLocks }, { dataDirFor }] = await Promise.all([import("../adapters/fs/instance-locks.ts"), import("../adapters/git/workspaces.ts")]);
    return new FileInstanceLocks(path.join(dataDirFor(project.env), project.projectId, "locks"));
  },
  // In the data directory, not the run directory: the log must survive a reboot (the run directory is often in /tmp or /run).
  async eventStore(project) {
    const [{ openSqliteEventStore }, { dataDirFor }] = await Promise.all([import("../adapters/store/sqlite-event-store.ts"), import("../adapters/git/workspaces.ts")]);
    return openSqliteEventStore(path.join(dataDirFor(project.env), project.projectId, "coordinator.db"));
  },
  async coordinatorLock(project) {
    const [{ FileCoordinatorLock }, { dataDirFor }] = await Promise.all([import("../adapters/store/coordinator-lock.ts"), import("../adapters/git/workspaces.ts")]);
    return new FileCoordinatorLock(path.join(dataDirFor(project.env), project.projectId));
  },
  // Which remote (a bare repository, or GitHub over HTTPS) is the adapter's to know, as open-forge.ts is for forges.
  async branches(project) {
    const { openBranchMover } = await import("../adapters/coordinate/open-branch-mover.ts");
    return openBranchMover({ settings: project.config.forge, projectDir: project.projectDir, env: project.env, projectId: project.projectId });
  },
  async workers(project) {
    const { DockerWorkerPool } = await import("./coordinate/docker-worker-pool.ts");
    return new DockerWorkerPool(project);
  },
  async operator(project) {
    const { SocketOperatorChannel } = await import("../adapters/messaging/operator-socket.ts");
    return new SocketOperatorChannel(project.runDirSpec);
  },
};
