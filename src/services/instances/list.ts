import { readdir } from "node:fs/promises";
import { LABELS } from "../../core/instances/labels.ts";
import type { ContainerInfo } from "../../core/instances/ports.ts";
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
  readonly container: string;
  /** The container's state; `missing` for an instance whose container is gone while its run files remain. */
  readonly state: ContainerInfo["state"] | "missing";
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
export async function listInstances(options: { cwd: string; env: NodeJS.ProcessEnv; ports?: PortOverrides; probeTimeoutMs?: number }): Promise<InstanceSummary[]> {
  const project = await openProject(options);
  const runtime = await project.ports.runtime();
  const found = await runtime.list({ [LABELS.project]: project.projectId });
  const timeoutMs = options.probeTimeoutMs ?? LIST_PROBE_TIMEOUT_MS;
  const listed = await Promise.all(
    found.map(async (c): Promise<InstanceSummary> => {
      const instance = c.labels[LABELS.instance] ?? c.name;
      const presence: ContainerPresence = c.state === "running" ? "running" : "stopped";
      return {
        instance,
        container: c.name,
        state: c.state,
        // Where its agent started (a stacked issue's `issue-1`, as the report says), else what the container was made from.
        base: (await launchedBase(instancePaths(project.runDir, instance))) ?? c.labels[LABELS.base] ?? null,
        image: c.image,
        createdAt: c.createdAt,
        agent: await probeAgent(instancePaths(project.runDir, instance), presence, timeoutMs),
        outdated: outdatedContainer(c.labels),
      };
    }),
  );
  const known = new Set(listed.map((i) => i.instance));
  const orphans = await orphanInstances(project.runDir, known);
  return [...listed, ...orphans].sort((a, b) => a.instance.localeCompare(b.instance));
}

/** Instance directories with a state.json and no container: the container was removed behind cspace's back. */
async function orphanInstances(runDir: string, known: ReadonlySet<string>): Promise<InstanceSummary[]> {
  const entries = await readdir(runDir, { withFileTypes: true }).catch(() => []);
  const candidates = entries.filter((e) => e.isDirectory() && !known.has(e.name));
  const orphans = await Promise.all(
    candidates.map(async (entry): Promise<InstanceSummary | null> => {
      const paths = instancePaths(runDir, entry.name);
      const recorded = await readRecordedStatus(paths);
      if (recorded === null) return null;
      return {
        instance: entry.name,
        container: "-",
        state: "missing",
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
