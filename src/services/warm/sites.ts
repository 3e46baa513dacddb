import type { LoadedDevcontainer } from "../../adapters/devcontainer/read-devcontainer.ts";
import { UserError } from "../../core/errors.ts";
import { localHostName, onlyTheLocalHost, workerHosts, type WorkerHost } from "../../core/hosts/hosts.ts";
import { IMAGE_BUILD_HINT, networkAsked, NETWORK_POLICY_HINT, unenforceableNetwork } from "../../core/hosts/kubernetes-limits.ts";
import type { ContainerRuntime } from "../../core/instances/ports.ts";
import type { WorkspaceTransport } from "../../core/workspaces/transport.ts";
import type { OpenedProject } from "../project.ts";
import { placeInstances, type PlacementOptions } from "./placement.ts";
import type { RemoteSite } from "./remote-bring-up.ts";

/** What a site needs of the workers' devcontainer: the image they run (the mirror keeper's too), and how it is had. */
export type WorkerImage = Pick<LoadedDevcontainer, "imageRef"> & { readonly spec: Pick<LoadedDevcontainer["spec"], "image" | "source"> };

/**
 * Where a warm makes an instance: this machine's engine (checkouts and
 * instance directories are folders here), or a host that shares no folder
 * with it, a Docker engine or a Kubernetes namespace (./remote-bring-up.ts).
 */
export type Site =
  | { readonly kind: "local"; readonly host: string; readonly runtime: ContainerRuntime }
  | {
      readonly kind: "remote";
      readonly host: string;
      readonly runtime: ContainerRuntime;
      readonly remote: RemoteSite;
      /** What differs there from a Docker worker that the user must know (said once per warm, as a warning). */
      readonly notes?: readonly string[];
    };

export interface Sites {
  of(instance: string): Site;
  /** The sites some instance of this warm goes to, each once. */
  used(): readonly Site[];
  /** Lets go of the transports' mirror keepers and the hosts' connections. */
  close(): Promise<void>;
}

/**
 * The sites of a warm. With only the local engine configured (the default),
 * no host is opened or asked: every instance goes to `ports.runtime()`, as
 * before hosts existed. Otherwise each instance is placed (./placement.ts)
 * and each host it lands on is opened once. What a host cannot do for the
 * workers' devcontainer (a Kubernetes cluster builds no image and has no
 * Docker network) is refused here, before anything is made there.
 */
export async function openSites(project: OpenedProject, instances: readonly string[], image: WorkerImage, placement: PlacementOptions = {}): Promise<Sites> {
  const hosts = workerHosts(project.config);
  if (onlyTheLocalHost(hosts)) {
    const local: Site = { kind: "local", host: localHostName(hosts), runtime: await project.ports.runtime() };
    return { of: () => local, used: () => [local], close: () => Promise.resolve() };
  }
  const runtimes = await project.ports.hosts();
  const transports: WorkspaceTransport[] = [];
  let releaseOnError = (): void => undefined;
  try {
    const placed = await placeInstances(project, runtimes, instances, placement);
    const byHost = new Map<string, Site>();
    releaseOnError = placed.release;
    for (const host of new Set(placed.hostOf.values())) byHost.set(host.name, await siteOn(project, host, await runtimes.get(host.name), image, transports));
    const siteOf = (instance: string): Site => {
      const host = placed.hostOf.get(instance);
      const site = host === undefined ? undefined : byHost.get(host.name);
      if (site === undefined) throw new UserError(`${instance} was not placed on any host`);
      return site;
    };
    return {
      of: siteOf,
      used: () => [...byHost.values()],
      close: async () => {
        placed.release();
        await Promise.all(transports.map((transport) => transport.close().catch(() => undefined)));
        await runtimes.close();
      },
    };
  } catch (error) {
    releaseOnError();
    await Promise.all(transports.map((transport) => transport.close().catch(() => undefined)));
    await runtimes.close();
    throw error;
  }
}

async function siteOn(project: OpenedProject, host: WorkerHost, runtime: ContainerRuntime, image: WorkerImage, transports: WorkspaceTransport[]): Promise<Site> {
  const keeperImage = image.imageRef;
  if (host.kind === "local") return { kind: "local", host: host.name, runtime };
  const notes: string[] = [];
  if (host.kind === "kubernetes") {
    refuseDockerOnly(project, host, image);
    notes.push(
      `host ${host.name} is a Kubernetes cluster: its nodes pull ${image.imageRef} when each pod starts (nothing checks it before), and its workers are on the cluster's network, which only the namespace's NetworkPolicy restricts`,
    );
  }
  const transport = await project.ports.transport({ name: host.name, runtime, keeperImage });
  transports.push(transport);
  // One push per base commit and host, whatever the number of workers: each push is a pack negotiation over the link.
  const pushed = new Map<string, Promise<void>>();
  const pushBase = (base: string, commit: string): Promise<void> => {
    const key = `${base}\0${commit}`;
    let push = pushed.get(key);
    if (push === undefined) {
      push = transport.prepareHost().then(() => transport.pushRefs([{ name: base, sha: commit }]));
      push.catch(() => pushed.delete(key));
      pushed.set(key, push);
    }
    return push;
  };
  return { kind: "remote", host: host.name, runtime, remote: { host: host.name, runtime, transport, pushBase, restartable: host.kind !== "kubernetes" }, notes };
}

/**
 * A Kubernetes host runs workers from an image the cluster pulls, on the
 * cluster's network: an image to build, or a `container.network` that only a
 * Docker network and cspace's egress proxy can enforce, is refused naming
 * the host, rather than a worker made without what the project asked for.
 */
function refuseDockerOnly(project: OpenedProject, host: WorkerHost, image: WorkerImage): void {
  if (image.spec.image.kind === "build") {
    throw new UserError(`host ${host.name} is a Kubernetes cluster, which cannot build the workers' image from ${image.spec.source}'s Dockerfile`, { hint: IMAGE_BUILD_HINT });
  }
  const asked = networkAsked(project.config.container.network);
  if (asked !== "open") {
    throw new UserError(`host ${host.name} is a Kubernetes cluster, where ${unenforceableNetwork(asked)} cannot be enforced: it needs a Docker network and cspace's egress proxy`, { hint: NETWORK_POLICY_HINT });
  }
}
