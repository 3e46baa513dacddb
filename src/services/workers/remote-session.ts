import { openInstanceMirror, type InstanceMirror } from "../../adapters/fs/instance-mirror.ts";
import { openRelay, type RelayHandle } from "../../adapters/messaging/relay/open-relay.ts";
import { workerBundleFiles } from "../../adapters/worker-bundle.ts";
import { CspaceError, ExternalError } from "../../core/errors.ts";
import type { OpenedProject } from "../project.ts";
import { containerUserOf } from "./container-user.ts";
import { privateRunDir } from "./host-files.ts";
import { hostDirOf, instancePaths, type InstancePaths } from "./instance-files.ts";
import type { RemoteWorker } from "./remote-files.ts";

/**
 * A command's own way to a remote worker when no coordinator carries its
 * sockets (docs/architecture.md, "Beyond one machine"): a one-off message
 * relay serving w.sock in a run directory of this command's own, and with
 * `files`, the instance mirror copying the worker's files there. Both live
 * as long as `work`. The relay leaves the container's c.sock alone
 * (`coordinatorSocket: false`): a coordinator's relay started meanwhile
 * keeps it, and several commands at once each have their own relay. The
 * paths given to `work` are the instance's as everything on the host reads
 * them, but in that private directory; their `hostDir` is the project's own
 * (launch.json and prompt.md as the host last wrote them).
 */

export interface RemoteSessionOptions {
  /** Copy the worker's files (events, state, supervisor.pid, its log) too: status, restart, up and follow read them. */
  readonly files: boolean;
  /** How long the relay may take to say hello. */
  readonly readyTimeoutMs?: number | undefined;
}

const READY_MS = 30_000;

export async function withRemoteSession<T>(
  project: OpenedProject,
  instance: string,
  worker: RemoteWorker,
  options: RemoteSessionOptions,
  work: (paths: InstancePaths, live: () => boolean) => Promise<T>,
): Promise<T> {
  // What fails on the way is the host's or its engine's: said naming both (a user's or cspace's own error stays as it is).
  const reach = (error: unknown): never => {
    if (error instanceof CspaceError && (error.kind !== "external" || error.message.includes(`host ${worker.host}`))) throw error;
    throw new ExternalError(`cannot reach instance ${instance} on host ${worker.host}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  };
  const { user } = await containerUserOf(project, worker.runtime, worker.container, instance).catch(reach);
  // The relay's --no-c-sock is the bundle's: a supervisor an older cspace started left an older bundle there.
  await worker.runtime.copyIn(worker.container.id, await workerBundleFiles()).catch(reach);
  const copy = await privateRunDir(instance);
  let mirror: InstanceMirror | null = null;
  let relay: RelayHandle | null = null;
  try {
    const paths: InstancePaths = { ...instancePaths(copy.runDir, instance), hostDir: hostDirOf(project.runDir, instance) };
    if (options.files) {
      mirror = await openInstanceMirror({ runtime: worker.runtime, containerId: worker.container.id, user, hostDir: paths.dir }).catch(reach);
      await mirror.synced().catch(reach);
    }
    relay = openRelay({ runtime: worker.runtime, containerId: worker.container.id, user, hostDir: paths.dir, coordinatorSocket: false });
    await relayReady(relay, options.readyTimeoutMs ?? READY_MS).catch(reach);
    const held = mirror;
    return await work(paths, () => held === null || held.lost === null);
  } finally {
    await relay?.close().catch(() => undefined);
    await mirror?.close().catch(() => undefined);
    await copy.remove();
  }
}

/** The relay's first hello; a relay that never says it (an exec that cannot start) fails with the last reason. */
async function relayReady(relay: RelayHandle, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const why = relay.stats().lastLoss;
      reject(new ExternalError(`the message relay did not start within ${String(Math.round(timeoutMs / 1000))} s${why === null ? "" : ` (${why})`}`));
    }, timeoutMs);
  });
  try {
    await Promise.race([relay.ready, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
