import { onlyTheLocalHost, workerHosts, type WorkerHost } from "../../core/hosts/hosts.ts";
import type { ContainerRuntime } from "../../core/instances/ports.ts";
import { checkoutVolumeName, mirrorVolumeName } from "../../core/workspaces/transport.ts";
import { KEEPER_LABELS } from "../../adapters/git/transport/mirror-keeper.ts";
import type { OpenedProject } from "../project.ts";
import { removeEgress } from "../warm/egress.ts";
import { removeInstance, type RemovalPorts, type RemovalResult } from "./remove.ts";

/** A configured host that did not answer: nothing of the project there was removed. */
export interface UnreachableHost {
  readonly host: string;
  readonly error: string;
}

/** What `down --all` removed on a host besides its workers: egress proxy and networks, mirror keepers, mirror and checkout volumes. */
export interface HostRemoval {
  readonly host: string;
  readonly removed: readonly string[];
}

/** The engines a removal can reach, asked once: with several hosts, those that answered, and those that did not. */
export interface HostsInReach {
  /** Whether more than the local engine is configured. */
  readonly several: boolean;
  /** One runtime over every host that answered (the local engine alone with the default hosts). */
  readonly runtime: ContainerRuntime;
  readonly answering: readonly { readonly host: WorkerHost; readonly runtime: ContainerRuntime }[];
  readonly unreachable: readonly UnreachableHost[];
}

/**
 * The engines down can reach. With the default hosts, the local engine (its
 * failure fails the command, as before hosts). With several, every host is
 * asked once, up front: one that does not answer is set aside and named, and
 * the rest are reached through one routed runtime over them only, so a
 * silent host neither stops the others' cleaning nor is asked again. When
 * none answers there is nothing to remove anything from: the first one's
 * error fails the command, as the one local engine's would.
 */
export async function hostsInReach(project: OpenedProject): Promise<HostsInReach> {
  if (onlyTheLocalHost(workerHosts(project.config))) return { several: false, runtime: await project.ports.runtime(), answering: [], unreachable: [] };
  const runtimes = await project.ports.hosts();
  const answers = await runtimes.all();
  const answering = answers.flatMap((answer) => (answer.runtime === undefined ? [] : [{ host: answer.host, runtime: answer.runtime }]));
  const unreachable = answers.flatMap((answer) => (answer.error === undefined ? [] : [{ host: answer.host.name, error: withoutHostName(answer.host.name, answer.error.message) }]));
  const silent = answers.find((answer) => answer.error !== undefined)?.error;
  if (answering.length === 0 && silent !== undefined) throw silent;
  const { RoutedRuntime } = await import("../../adapters/hosts/routed-runtime.ts");
  const runtime = new RoutedRuntime({ hosts: answering.map((answer) => answer.host), get: (name) => runtimes.get(name) });
  return { several: true, runtime, answering, unreachable };
}

/**
 * One instance on every host that answered: its container wherever it runs,
 * its checkout on this machine and its run-dir files (./remove.ts), and the
 * checkout volume a remote worker's transport made on its host.
 */
export async function removeInstanceEverywhere(ports: RemovalPorts, reach: HostsInReach, where: { readonly projectId: string; readonly runDir: string }, instance: string): Promise<RemovalResult> {
  const result = await removeInstance(ports, where, instance);
  // After the container: a volume a container still uses cannot go.
  const volumes = await Promise.all(reach.answering.filter(({ host }) => host.kind !== "local").map(({ runtime }) => runtime.removeVolume(checkoutVolumeName(where.projectId, instance))));
  if (!volumes.includes(true)) return result;
  return { ...result, removed: { ...result.removed, workspace: true }, missing: false };
}

/**
 * `down --all` on each host that answered, once its workers are gone: the
 * project's egress proxy and networks, the keepers of its mirror, then the
 * mirror's and any checkout's volumes (labelled with the project by the
 * transport; the mirror also by name, should a mount have made it bare).
 */
export async function removeHostLeftovers(reach: HostsInReach, projectId: string): Promise<HostRemoval[]> {
  return Promise.all(
    reach.answering.map(async ({ host, runtime }): Promise<HostRemoval> => {
      const removed = await removeEgress(runtime, projectId);
      for (const keeper of await runtime.list({ [KEEPER_LABELS.mirrorOf]: projectId })) {
        if (await runtime.remove(keeper.id)) removed.push(keeper.name);
      }
      const volumes = new Set((await runtime.listVolumes({ [KEEPER_LABELS.mirrorOf]: projectId })).map((volume) => volume.name));
      volumes.add(mirrorVolumeName(projectId));
      for (const volume of [...volumes].sort()) {
        if (await runtime.removeVolume(volume)) removed.push(`volume ${volume}`);
      }
      return { host: host.name, removed };
    }),
  );
}

/** The message without the "host NAME: " it starts with (the line naming the host says it). */
function withoutHostName(host: string, message: string): string {
  const prefix = `host ${host}: `;
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}
