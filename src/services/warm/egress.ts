import { workerBundleFiles } from "../../adapters/worker-bundle.ts";
import { presetNamed } from "../../core/agents/presets/index.ts";
import { ExternalError } from "../../core/errors.ts";
import { LABELS } from "../../core/instances/labels.ts";
import type { ContainerRuntime } from "../../core/instances/ports.ts";
import { egressPolicy, type EgressPolicy } from "../../core/network/allowlist.ts";
import {
  ALLOWLIST_ENV,
  EGRESS_LABEL,
  EGRESS_POLICY_LABEL,
  egressLabels,
  egressNames,
  PROXY_ALIAS,
  PROXY_COMMAND,
  policyDigest,
  workerNetwork,
  workersNetworkSpec,
  type WorkerNetwork,
} from "../../core/network/egress.ts";
import { countDenials, type EgressDenials } from "../../core/network/denials.ts";
import type { Project } from "../project.ts";

/** What a worker's network label says: "open", "none", or the network it is on. */
export function networkLabelOf(network: WorkerNetwork): string {
  return network.mode ?? "open";
}

/** The project's `container.network`, with `@agent` as its preset's hosts. */
export function projectEgressPolicy(project: Project): EgressPolicy {
  const preset = presetNamed(project.config.agent.preset);
  return egressPolicy(project.config.container.network, preset?.networkHosts ?? []);
}

/**
 * Makes what the project's network setting needs before any worker is made,
 * and says how workers join it. For an allowlist: the internal workers'
 * network, the bridge out, and the proxy on both, each found by name and
 * label and reused; a proxy with another allowlist or image is replaced
 * (workers keep their network, and find the new proxy by the same alias).
 * Safe to run twice, and from two warms at once.
 */
export async function ensureEgress(runtime: ContainerRuntime, project: Project, image: string): Promise<WorkerNetwork> {
  const policy = projectEgressPolicy(project);
  const network = workerNetwork(policy, project.projectId);
  if (policy.kind !== "allow") return network;
  const names = egressNames(project.projectId);
  const workersNetwork = await runtime.ensureNetwork(workersNetworkSpec(project.projectId));
  await runtime.ensureNetwork({ Name: names.outsideNetwork, Internal: false, Labels: egressLabels(project.projectId, "outside") });
  const digest = policyDigest(policy.hosts, image);
  const existing = await runtime.inspect(names.proxyContainer);
  if (existing !== null && existing.labels[EGRESS_POLICY_LABEL] === digest) {
    await runtime.connectNetwork(workersNetwork, existing.id, [PROXY_ALIAS]);
    if (existing.state !== "running") await runtime.start(existing.id);
    await proxyReady(runtime, existing.id);
    return network;
  }
  if (existing !== null) await runtime.remove(existing.id);
  const id = await createProxy(runtime, project.projectId, image, policy.hosts, digest);
  await runtime.connectNetwork(workersNetwork, id, [PROXY_ALIAS]);
  await runtime.start(id);
  await proxyReady(runtime, id);
  return network;
}

async function createProxy(runtime: ContainerRuntime, projectId: string, image: string, hosts: readonly string[], digest: string): Promise<string> {
  const names = egressNames(projectId);
  const [command, ...args] = PROXY_COMMAND;
  let id: string;
  try {
    id = await runtime.create({
      name: names.proxyContainer,
      // The worker image: it has the Node the worker bundle needs, and the engine has it already.
      Image: image,
      Env: [`${ALLOWLIST_ENV}=${JSON.stringify(hosts)}`],
      Labels: { ...egressLabels(projectId, "proxy"), [EGRESS_POLICY_LABEL]: digest },
      // Nobody: the proxy needs no file it did not bring and no port below 1024.
      User: "65534:65534",
      WorkingDir: "/",
      Entrypoint: [command],
      Cmd: args,
      HostConfig: { Mounts: [], NetworkMode: names.outsideNetwork },
    });
  } catch (error) {
    // Another warm made it first: use theirs.
    const theirs = await runtime.inspect(names.proxyContainer);
    if (theirs === null) throw error;
    return theirs.id;
  }
  await runtime.copyIn(id, await workerBundleFiles());
  return id;
}

async function proxyReady(runtime: ContainerRuntime, id: string): Promise<void> {
  const outcome = await runtime.exec(id, [...PROXY_COMMAND, "ready"]);
  if (outcome.exitCode === 0) return;
  const log = await runtime.logs(id).catch(() => "");
  throw new ExternalError(`the egress proxy (container ${id.slice(0, 12)}) does not accept connections`, {
    hint: `its output:\n${(log + outcome.stderr).trim().split("\n").slice(-10).join("\n")}\nset container.network to "open" in .cspace.json to run without it`,
  });
}

/** The project's proxy and networks, for `down --all`; what was removed, by name. */
export async function removeEgress(runtime: ContainerRuntime, projectId: string): Promise<string[]> {
  const removed: string[] = [];
  for (const proxy of await runtime.list({ [EGRESS_LABEL]: projectId })) {
    if (await runtime.remove(proxy.id)) removed.push(proxy.name);
  }
  for (const network of await runtime.listNetworks({ [EGRESS_LABEL]: projectId })) {
    if (await runtime.removeNetwork(network.id)) removed.push(network.name);
  }
  return removed;
}

/**
 * What the project's egress proxy denied since `since` (ISO 8601), by host and
 * by worker (its address on the workers' network, as the engine gives it
 * now): zero when there is no proxy.
 */
export async function egressDenials(runtime: ContainerRuntime, projectId: string, since?: string): Promise<EgressDenials> {
  const [logs, workers] = await Promise.all([
    Promise.all((await runtime.list({ [EGRESS_LABEL]: projectId })).map((proxy) => runtime.logs(proxy.id, { since }))),
    runtime.list({ [LABELS.project]: projectId }),
  ]);
  const network = egressNames(projectId).workersNetwork;
  const byAddress = new Map<string, string>();
  for (const worker of workers) {
    const instance = worker.labels[LABELS.instance];
    const address = (await runtime.inspect(worker.id))?.addresses?.[network];
    if (instance !== undefined && address !== undefined) byAddress.set(address, instance);
  }
  return countDenials(logs.join("\n"), since, (address) => byAddress.get(address) ?? null);
}
