import type { DockerMount } from "../../src/core/devcontainer/create-options.ts";
import { ExternalError } from "../../src/core/errors.ts";
import {
  checkoutVolumeName,
  collectedRef,
  MIRROR_IN_CONTAINER,
  mirrorVolumeName,
  type CheckoutRequest,
  type Collected,
  type CollectRequest,
  type RefToPush,
  type WorkspaceTransport,
} from "../../src/core/workspaces/transport.ts";

/**
 * One host's WorkspaceTransport as records: the mirror's branches, each
 * container's checkout, and the branch heads a test says a worker committed
 * (`commitInWorker`). It refuses what the real one refuses: a checkout of a
 * commit the mirror was never given, and a collect of a branch the worker
 * does not have.
 */
export class FakeWorkspaceTransport implements WorkspaceTransport {
  prepared = false;
  closed = false;
  /** The mirror's branches, name → sha. */
  readonly mirror = new Map<string, string>();
  /** Checkouts by container id. */
  readonly checkouts = new Map<string, CheckoutRequest>();
  /** What each container's branches point at: the checkout's own, and what `commitInWorker` moved. */
  readonly #heads = new Map<string, Map<string, string>>();
  readonly removed: string[] = [];
  readonly calls: string[] = [];

  readonly hostName: string;
  readonly projectId: string;

  constructor(hostName: string, projectId: string) {
    this.hostName = hostName;
    this.projectId = projectId;
  }

  prepareHost(): Promise<void> {
    this.calls.push("prepareHost");
    this.prepared = true;
    return Promise.resolve();
  }

  pushRefs(refs: readonly RefToPush[]): Promise<void> {
    this.calls.push(`pushRefs ${refs.map((ref) => ref.name).join(",")}`);
    if (!this.prepared) return Promise.reject(new ExternalError(`the mirror on host ${this.hostName} was not prepared`));
    for (const ref of refs) this.mirror.set(ref.name, ref.sha);
    return Promise.resolve();
  }

  mountsFor(instance: string, workspaceFolder: string): readonly DockerMount[] {
    return [
      // Shared, as the real transport marks it: on Kubernetes a ReadWriteMany claim every worker of the host reads.
      { Type: "volume", Source: mirrorVolumeName(this.projectId), Target: MIRROR_IN_CONTAINER, ReadOnly: true, VolumeOptions: { Labels: { "dev.cspace.mirror-of": this.projectId, "dev.cspace.host": this.hostName }, Shared: true } },
      { Type: "volume", Source: checkoutVolumeName(this.projectId, instance), Target: workspaceFolder, ReadOnly: false },
    ];
  }

  checkout(containerId: string, request: CheckoutRequest): Promise<void> {
    this.calls.push(`checkout ${request.instance} ${request.branch}`);
    if (![...this.mirror.values()].includes(request.commit)) {
      return Promise.reject(new ExternalError(`cannot check out ${request.commit} for ${request.instance} in its container: the mirror on host ${this.hostName} does not have it`));
    }
    this.checkouts.set(containerId, request);
    this.#heads.set(containerId, new Map([[request.branch, request.commit]]));
    return Promise.resolve();
  }

  /** The agent in this container committed: its branch now points at `sha`. */
  commitInWorker(containerId: string, branch: string, sha: string): void {
    const heads = this.#heads.get(containerId) ?? new Map<string, string>();
    heads.set(branch, sha);
    this.#heads.set(containerId, heads);
  }

  collect(containerId: string, request: CollectRequest): Promise<Collected> {
    this.calls.push(`collect ${request.instance} ${request.branch}`);
    const sha = this.#heads.get(containerId)?.get(request.branch);
    if (sha === undefined) return Promise.reject(new ExternalError(`the worker ${request.instance} has no branch ${request.branch}: there is nothing to collect`));
    return Promise.resolve({ sha, repository: `fake://${this.hostName}/quarantine/${request.instance}`, ref: collectedRef(request.branch), bytes: 0 });
  }

  removeInstance(instance: string): Promise<void> {
    this.removed.push(instance);
    for (const [container, request] of this.checkouts) if (request.instance === instance) this.checkouts.delete(container);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
