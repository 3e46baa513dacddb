import { readdir } from "node:fs/promises";
import { CspaceError } from "../../core/errors.ts";
import { hostOfContainer, localHostName, onlyTheLocalHost, workerHosts } from "../../core/hosts/hosts.ts";
import { LABELS } from "../../core/instances/labels.ts";
import type { ContainerInfo, ContainerRuntime } from "../../core/instances/ports.ts";
import { openProject, type PortOverrides } from "../project.ts";
import type { AgentView, ContainerPresence } from "../workers/agent-state.ts";
import { outdatedContainer } from "../../core/instances/outdated.ts";
import { instancePaths, type InstancePaths } from "../workers/instance-files.ts";
import { probeAgent, readRecordedStatus } from "../workers/probe.ts";
import { readHostFile } from "../workers/host-files.ts";
import { parseLaunch } from "../../core/messaging/launch.ts";
import { HOST_FILES } from "../../core/messaging/layout.ts";

export interface InstanceSummary {
  readonly instance: string;
  /** The host (workers.hosts) its container runs on; null for one whose container was not found. */
  readonly host: string | null;
  readonly container: string;
  /**
   * The container's state; `missing` for an instance whose container is gone
   * while its run files remain; `unknown` for such an instance while a host
   * did not answer (its container may be there).
   */
  readonly state: ContainerInfo["state"] | "missing" | "unknown";
  /** The branch its agent was launched on (a dependency's `issue-<N>` when stacked), else the one its container was made from. */
  readonly base: string | null;
  readonly image: string;
  readonly createdAt: string;
  /** The agent: working, idle, exited N, lost, none; with turns, cost and last activity. */
  readonly agent: AgentView;
  /** Why the worker was made by an older cspace (the next `cspace warm` makes it again); empty when it is current. */
  readonly outdated: readonly string[];
}

/** How long list waits for each supervisor: they are asked all at once, so this bounds the whole command's wait. */
export const LIST_PROBE_TIMEOUT_MS = 750;

/**
 * This project's instances, found by label, each with its agent's state.
 * Supervisors are asked in parallel with a short timeout; one that does not
 * answer while state.json says its agent had not exited is `lost`. An
 * instance whose container vanished but whose run files say an agent ran is
 * listed too (state `missing`), so a lost worker never disappears silently.
 * Reads; creates nothing.
 */
export async function listInstances(options: ListOptions): Promise<InstanceSummary[]> {
  return (await listProject(options)).instances;
}

export interface ListOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly ports?: PortOverrides;
  readonly probeTimeoutMs?: number;
}

/** A host that did not answer `list`, and why. */
export interface UnreachableHost {
  readonly host: string;
  /** What went wrong, like "no Docker engine at unix:///x.sock: the socket does not exist". */
  readonly error: string;
}

export interface ProjectListing {
  readonly instances: InstanceSummary[];
  /** The configured hosts whose engine did not answer: their workers could not be listed. */
  readonly unreachableHosts: UnreachableHost[];
  /** Whether more than the local engine is configured (then people see a HOST column). */
  readonly severalHosts: boolean;
}

/**
 * listInstances, with the hosts that did not answer. With the default
 * configuration (the local engine alone) only that engine is asked, and its
 * failure fails the command as before; with several hosts every one is
 * asked at once, and one that does not answer is reported, not fatal.
 */
export async function listProject(options: ListOptions): Promise<ProjectListing> {
  const project = await openProject(options);
  const hosts = workerHosts(project.config);
  const severalHosts = !onlyTheLocalHost(hosts);
  const unreachableHosts: UnreachableHost[] = [];
  const localHost = localHostName(hosts);
  let found: readonly FoundContainer[];
  let closeHosts = (): Promise<void> => Promise.resolve();
  if (!severalHosts) {
    const runtime = await project.ports.runtime();
    found = (await runtime.list({ [LABELS.project]: project.projectId })).map((container) => ({ container, host: localHost, runtime }));
  } else {
    const runtimes = await project.ports.hosts();
    // Open until the agents are probed: a remote worker's is asked over its host's connection.
    closeHosts = () => runtimes.close();
    try {
      const answers = await runtimes.all();
      const lists = await Promise.all(
        answers.map(async (answer): Promise<HostContainers | null> => {
          if (answer.runtime === undefined) {
            unreachableHosts.push({ host: answer.host.name, error: withoutHostName(answer.host.name, answer.error.message) });
            return null;
          }
          try {
            return { host: answer.host.name, runtime: answer.runtime, containers: await answer.runtime.list({ [LABELS.project]: project.projectId }) };
          } catch (error) {
            if (!(error instanceof CspaceError)) throw error;
            unreachableHosts.push({ host: answer.host.name, error: withoutHostName(answer.host.name, error.message) });
            return null;
          }
        }),
      );
      found = oncePerContainer(lists.filter((list): list is HostContainers => list !== null));
    } catch (error) {
      await runtimes.close();
      throw error;
    }
  }
  const timeoutMs = options.probeTimeoutMs ?? LIST_PROBE_TIMEOUT_MS;
  const listed = await Promise.all(
    found.map(async (each): Promise<InstanceSummary> => {
      const { container: c, host } = each;
      const instance = c.labels[LABELS.instance] ?? c.name;
      const presence: ContainerPresence = c.state === "running" ? "running" : "stopped";
      const paths = instancePaths(project.runDir, instance);
      return {
        instance,
        host,
        container: c.name,
        state: c.state,
        // Where its agent started (a stacked issue's `issue-1`, as the report says), else what the container was made from.
        base: (await launchedBase(instancePaths(project.runDir, instance))) ?? c.labels[LABELS.base] ?? null,
        image: c.image,
        createdAt: c.createdAt,
        // A worker on another host with no coordinator carrying its files here is asked there (remote-agent.ts).
        agent: host === localHost ? await probeAgent(paths, presence, timeoutMs) : await (await import("./remote-agent.ts")).probeRemoteAgent(project, each, instance, paths, timeoutMs),
        outdated: outdatedContainer(c.labels),
      };
    }),
  ).finally(closeHosts);
  const known = new Set(listed.map((i) => i.instance));
  const orphans = await orphanInstances(project.runDir, known, unreachableHosts.length > 0 ? "unknown" : "missing");
  const instances = [...listed, ...orphans].sort((a, b) => a.instance.localeCompare(b.instance) || (a.host ?? "").localeCompare(b.host ?? ""));
  unreachableHosts.sort((a, b) => hosts.findIndex((h) => h.name === a.host) - hosts.findIndex((h) => h.name === b.host));
  return { instances, unreachableHosts, severalHosts };
}

/** The message without the "host NAME: " it starts with (the line naming the host says it). */
function withoutHostName(host: string, message: string): string {
  const prefix = `host ${host}: `;
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}

interface FoundContainer {
  readonly container: ContainerInfo;
  /** The host it was found on, and its engine. */
  readonly host: string;
  readonly runtime: ContainerRuntime;
}

interface HostContainers {
  readonly host: string;
  readonly runtime: ContainerRuntime;
  readonly containers: readonly ContainerInfo[];
}

/**
 * Each container once, even when two configured hosts are one engine (a
 * unix:// address of the local socket): it belongs to the host its label
 * names, else to the first host, in config order, that found it.
 */
function oncePerContainer(lists: readonly HostContainers[]): FoundContainer[] {
  const byId = new Map<string, FoundContainer>();
  for (const { host, runtime, containers } of lists) {
    for (const container of containers) {
      const earlier = byId.get(container.id);
      if (earlier === undefined || (hostOfContainer(container.labels) === host && hostOfContainer(earlier.container.labels) !== earlier.host)) {
        byId.set(container.id, { container, host, runtime });
      }
    }
  }
  return [...byId.values()];
}

/** Instance directories with a state.json and no container: the container was removed behind cspace's back (or is on a host that did not answer). */
async function orphanInstances(runDir: string, known: ReadonlySet<string>, state: "missing" | "unknown"): Promise<InstanceSummary[]> {
  const entries = await readdir(runDir, { withFileTypes: true }).catch(() => []);
  const candidates = entries.filter((e) => e.isDirectory() && !known.has(e.name));
  const orphans = await Promise.all(
    candidates.map(async (entry): Promise<InstanceSummary | null> => {
      const paths = instancePaths(runDir, entry.name);
      const recorded = await readRecordedStatus(paths);
      if (recorded === null) return null;
      return {
        instance: entry.name,
        host: null,
        container: "-",
        state,
        base: await launchedBase(paths),
        image: "-",
        createdAt: recorded.startedAt,
        agent: await probeAgent(paths, "missing", 0),
        outdated: [],
      };
    }),
  );
  return orphans.filter((o): o is InstanceSummary => o !== null);
}

/**
 * The base the host last launched the instance's agent on, from its own copy
 * of launch.json (the worker cannot change it); null when no agent was
 * launched there or the copy cannot be read (list shows what it can).
 */
async function launchedBase(paths: InstancePaths): Promise<string | null> {
  try {
    const text = await readHostFile(paths, HOST_FILES.launch);
    if (text === null) return null;
    const parsed = parseLaunch(JSON.parse(text));
    return parsed.ok ? parsed.launch.base : null;
  } catch {
    return null;
  }
}
