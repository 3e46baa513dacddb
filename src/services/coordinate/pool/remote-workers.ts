import { openInstanceMirror } from "../../../adapters/fs/instance-mirror.ts";
import { openRelay, type RelayHandle, type RelayState } from "../../../adapters/messaging/relay/open-relay.ts";
import { workerBundleFiles } from "../../../adapters/worker-bundle.ts";
import { ExternalError } from "../../../core/errors.ts";
import { onlyTheLocalHost, workerHosts } from "../../../core/hosts/hosts.ts";
import { LABELS } from "../../../core/instances/labels.ts";
import { containerNameFor } from "../../../core/instances/names.ts";
import type { ContainerDetails, ContainerRuntime } from "../../../core/instances/ports.ts";
import type { Collected, RefToPush, WorkspaceTransport } from "../../../core/workspaces/transport.ts";
import type { OpenedProject } from "../../project.ts";
import { containerUserOf } from "../../workers/container-user.ts";
import { instancePaths } from "../../workers/instance-files.ts";
import { ResumedMirror } from "./resumed-mirror.ts";

/**
 * The host of a remote worker does not answer now: whether the worker is
 * still at work there is unknown (its relay buffers what is sent meanwhile).
 */
export class HostUnreachableError extends ExternalError {
  readonly host: string;
  /** When this host was first found not answering, in this run of unanswered requests (ms since the epoch). */
  readonly since: number;
  constructor(host: string, since: number, cause: unknown) {
    super(`host ${host} does not answer: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.host = host;
    this.since = since;
  }
}

/** A worker whose container runs on a host that shares no folder with this machine. */
export interface RemoteWorker {
  readonly instance: string;
  readonly host: string;
  readonly runtime: ContainerRuntime;
  readonly container: ContainerDetails;
  readonly transport: WorkspaceTransport;
  /** The container user, as uid:gid: what the relay, the mirror and the collect run as. */
  readonly user: string;
  readonly workspaceFolder: string;
}

/** How long the pool's close waits for each running mirror's last copy (ResumedMirror.close). */
const FINAL_SYNC_MS = 5_000;

interface Attached {
  readonly containerId: string;
  readonly relay: RelayHandle;
  readonly mirror: ResumedMirror;
}

/**
 * What the pool holds for its remote workers (docs/architecture.md, "Beyond
 * one machine"): one workspace transport per host, and per worker the
 * message relay (its w.sock and c.sock in the host's instance directory) and
 * the instance mirror (its events, state and reports copied there), so the
 * rest of the pool reads and dials the host's instance directory exactly as
 * for a local worker. With only the local engine configured, nothing here
 * opens anything.
 */
export class RemoteWorkers {
  readonly #project: OpenedProject;
  readonly #onlyLocal: boolean;
  readonly #transports = new Map<string, Promise<WorkspaceTransport>>();
  readonly #attached = new Map<string, Promise<Attached>>();
  /** Each remote worker as last found: its container is looked up again on its host only (one request, not one per host). */
  readonly #known = new Map<string, RemoteWorker>();
  /** Hosts that did not answer the last request made of them, since when. */
  readonly #unanswered = new Map<string, number>();
  #notice: ((instance: string, text: string) => void) | null = null;
  #closed = false;

  constructor(project: OpenedProject) {
    this.#project = project;
    this.#onlyLocal = onlyTheLocalHost(workerHosts(project.config));
  }

  /** The instance's worker when its container runs on a remote host; null when it runs here or has no container. */
  async of(instance: string): Promise<RemoteWorker | null> {
    if (this.#onlyLocal) return null;
    const project = this.#project;
    const name = containerNameFor(project.projectId, instance);
    const known = this.#known.get(instance);
    if (known !== undefined) {
      let container: ContainerDetails | null;
      try {
        container = await known.runtime.inspect(name);
        this.#unanswered.delete(known.host);
      } catch (error) {
        const since = this.#unanswered.get(known.host) ?? Date.now();
        this.#unanswered.set(known.host, since);
        // Made again elsewhere meanwhile (the worker was lost and relaunched): that one counts; otherwise nobody knows yet.
        const elsewhere = await this.#search(instance, known.host).catch((other: unknown) => {
          if (other instanceof HostUnreachableError) return undefined;
          throw other;
        });
        if (elsewhere === undefined) throw new HostUnreachableError(known.host, since, error);
        if (elsewhere === null) this.#known.delete(instance);
        // The worker lives elsewhere now: the old relay and mirror would retry an unreachable host for ever.
        await this.#detach(instance);
        return elsewhere;
      }
      if (container?.id === known.container.id) return { ...known, container };
      this.#known.delete(instance);
      // Gone from that host (moved elsewhere, or removed): its relay and mirror there have nothing left to reach, and a
      // worker made here again needs the instance's w.sock for its own supervisor.
      if (container === null) await this.#detach(instance);
    }
    return (await this.#search(instance, null)) ?? null;
  }

  /**
   * Looks for the instance's container on every host but `skip`: the remote
   * worker found, null when it is here, undefined when it is nowhere. A host
   * that does not answer is passed over; when the container is found on no
   * host that answered, it may be on that one: HostUnreachableError.
   */
  async #search(instance: string, skip: string | null): Promise<RemoteWorker | null | undefined> {
    const project = this.#project;
    const name = containerNameFor(project.projectId, instance);
    const hosts = await project.ports.hosts();
    let silent: { readonly host: string; readonly error: unknown } | null = null;
    for (const answer of await hosts.all()) {
      if (answer.host.name === skip) continue;
      if (answer.runtime === undefined) {
        silent ??= { host: answer.host.name, error: answer.error };
        continue;
      }
      let container: ContainerDetails | null;
      try {
        container = await answer.runtime.inspect(name);
        this.#unanswered.delete(answer.host.name);
      } catch (error) {
        // An engine opened earlier may have stopped answering since (an SSH connection that cannot be made again).
        silent ??= { host: answer.host.name, error };
        continue;
      }
      if (container === null) continue;
      // Two names may reach one engine: the label says which host made it.
      const host = answer.host.kind === "local" ? answer.host.name : (container.labels[LABELS.host] ?? answer.host.name);
      if (hosts.hosts.find((candidate) => candidate.name === host)?.kind === "local") return null;
      const { user, workspaceFolder } = await containerUserOf(project, answer.runtime, container, instance);
      const transport = await this.#transport(host, answer.runtime, container.image);
      const worker: RemoteWorker = { instance, host, runtime: answer.runtime, container, transport, user, workspaceFolder };
      this.#known.set(instance, worker);
      return worker;
    }
    if (silent !== null) {
      const since = this.#unanswered.get(silent.host) ?? Date.now();
      this.#unanswered.set(silent.host, since);
      throw new HostUnreachableError(silent.host, since, silent.error);
    }
    return undefined;
  }

  /**
   * The worker's relay and mirror, opened once per container (again when its
   * container was made anew, or the mirror was lost): resolves once the
   * host's w.sock is served.
   */
  async attach(worker: RemoteWorker): Promise<void> {
    if (this.#closed) throw new ExternalError(`the pool is closed: ${worker.instance} was not attached`);
    const current = this.#attached.get(worker.instance);
    if (current !== undefined) {
      const attached = await current.catch(() => null);
      // A lost mirror here may be a pod made anew under the same name (Kubernetes), without the worker bundle: all is opened again.
      if (attached !== null && attached.containerId === worker.container.id && attached.mirror.lost === null) return;
      this.#attached.delete(worker.instance);
      if (attached !== null) await closeAttached(attached);
    }
    const opening = this.#open(worker);
    this.#attached.set(worker.instance, opening);
    await opening.catch((error: unknown) => {
      if (this.#attached.get(worker.instance) === opening) this.#attached.delete(worker.instance);
      throw error;
    });
  }

  /** Where to say that a worker's relay went down and came back (the coordinator's notices), once per change. */
  onNotice(listener: (instance: string, text: string) => void): void {
    this.#notice = listener;
  }

  /** Everything the worker's directory holds now is in the host's copy (a report read next is the latest); a no-op for a worker not attached, or whose host does not answer. */
  async synced(instance: string): Promise<void> {
    const attached = await this.#attached.get(instance)?.catch(() => null);
    if (attached === null || attached === undefined) return;
    await attached.mirror.resume().catch(() => undefined);
    if (attached.mirror.lost !== null) return;
    await attached.mirror.synced();
  }

  /** Commits the worker will fetch from `origin` (its host's mirror), pushed there first. */
  async pushRefs(worker: RemoteWorker, refs: readonly RefToPush[], signal?: AbortSignal): Promise<void> {
    await worker.transport.prepareHost(signal);
    await worker.transport.pushRefs(refs, signal);
  }

  /** The worker's branch, collected into its quarantine on this machine. */
  collect(worker: RemoteWorker, branch: string, signal?: AbortSignal): Promise<Collected> {
    return worker.transport.collect(worker.container.id, { instance: worker.instance, path: worker.workspaceFolder, branch, user: worker.user }, signal);
  }

  async #detach(instance: string): Promise<void> {
    const opening = this.#attached.get(instance);
    if (opening === undefined) return;
    this.#attached.delete(instance);
    const attached = await opening.catch(() => null);
    if (attached !== null) await closeAttached(attached);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const attached = await Promise.all([...this.#attached.values()].map((opening) => opening.catch(() => null)));
    this.#attached.clear();
    await Promise.all(attached.map((a) => (a === null ? Promise.resolve() : closeAttached(a, FINAL_SYNC_MS))));
    const transports = await Promise.all([...this.#transports.values()].map((t) => t.catch(() => null)));
    this.#transports.clear();
    await Promise.all(transports.map((t) => (t === null ? Promise.resolve() : t.close().catch(() => undefined))));
    // The hosts' connections (one SSH connection each) would keep the process alive.
    if (!this.#onlyLocal) await (await this.#project.ports.hosts()).close();
  }

  async #open(worker: RemoteWorker): Promise<Attached> {
    const hostDir = instancePaths(this.#project.runDir, worker.instance).dir;
    // The relay and the mirror are roles of the worker bundle, which a fresh container does not have yet.
    await worker.runtime.copyIn(worker.container.id, await workerBundleFiles());
    const openMirror = () => openInstanceMirror({ runtime: worker.runtime, containerId: worker.container.id, user: worker.user, hostDir });
    const mirror = new ResumedMirror(await openMirror(), openMirror);
    // Said once when the relay goes down (its retries are not), once when it is back: a run's progress shows the outage.
    let saidDown = false;
    const say = (text: string): void => this.#notice?.(worker.instance, `the message relay to its container on host ${worker.host} ${text}`);
    const onStateChange = (state: RelayState, reason: string | null): void => {
      if (state === "down" && !saidDown) {
        saidDown = true;
        say(`is down (${reason ?? "the connection ended"}); its messages and reports wait until the host answers again`);
      }
      if (state !== "up") return;
      // A relay back up means its host answers again: a mirror lost meanwhile (sshd restarted, say) is resumed with it.
      mirror.resume().catch(() => undefined);
      if (saidDown) {
        saidDown = false;
        say("is back");
      }
    };
    const relay = openRelay({ runtime: worker.runtime, containerId: worker.container.id, user: worker.user, hostDir, onStateChange });
    try {
      await relay.ready;
    } catch (error) {
      await closeAttached({ containerId: worker.container.id, relay, mirror });
      throw error;
    }
    return { containerId: worker.container.id, relay, mirror };
  }

  #transport(host: string, runtime: ContainerRuntime, keeperImage: string): Promise<WorkspaceTransport> {
    let transport = this.#transports.get(host);
    if (transport === undefined) {
      transport = this.#project.ports.transport({ name: host, runtime, keeperImage });
      this.#transports.set(host, transport);
    }
    return transport;
  }
}

async function closeAttached(attached: Attached, syncWithinMs = 0): Promise<void> {
  await Promise.all([attached.relay.close().catch(() => undefined), attached.mirror.close(syncWithinMs).catch(() => undefined)]);
}
