import { CspaceError, ExternalError, InternalError, UserError } from "../core/errors.ts";
import { hostNamed, type WorkerHost } from "../core/hosts/hosts.ts";
import type { HostAnswer, HostConnection, HostRuntimes } from "../core/hosts/ports.ts";
import type { ContainerRuntime } from "../core/instances/ports.ts";

export interface HostRuntimeSources {
  /** The local engine (the project's runtime, pinged). */
  readonly local: () => Promise<ContainerRuntime>;
  /** Opens a host that is not the local engine (services/project.ts's `hostRuntime` factory). */
  readonly open: (host: WorkerHost) => HostConnection | Promise<HostConnection>;
}

/**
 * HostRuntimes over the configured hosts: each host opened once, on first
 * use, and pinged (one that fails is opened again on its next use); its
 * failures reworded to name the host, so a message says which of several
 * engines did not answer.
 */
export function hostRuntimes(hosts: readonly WorkerHost[], sources: HostRuntimeSources): HostRuntimes {
  const opened = new Map<string, Promise<HostConnection>>();
  const connect = (host: WorkerHost): Promise<HostConnection> => {
    let connection = opened.get(host.name);
    if (connection === undefined) {
      const opening = openHost(host, sources);
      // A host that could not be opened is tried again on the next use (an sshd restarted, a network back): a coordinator outlives a blip.
      opening.catch(() => {
        if (opened.get(host.name) === opening) opened.delete(host.name);
      });
      opened.set(host.name, opening);
      connection = opening;
    }
    return connection;
  };
  const get = async (name: string): Promise<ContainerRuntime> => (await connect(hostNamed(hosts, name))).runtime;
  return {
    hosts,
    get,
    async all(): Promise<HostAnswer[]> {
      return Promise.all(
        hosts.map(async (host): Promise<HostAnswer> => {
          try {
            return { host, runtime: await get(host.name) };
          } catch (error) {
            if (!(error instanceof CspaceError)) throw error;
            return { host, error };
          }
        }),
      );
    },
    async close(): Promise<void> {
      const connections = [...opened.values()];
      opened.clear();
      // One that never opened has nothing to close.
      await Promise.all(connections.map((connection) => connection.then((c) => c.close(), () => undefined)));
    },
  };
}

async function openHost(host: WorkerHost, sources: HostRuntimeSources): Promise<HostConnection> {
  try {
    if (host.kind === "local") return { runtime: await sources.local(), close: () => Promise.resolve() };
    const connection = await sources.open(host);
    try {
      await connection.runtime.ping();
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
    return connection;
  } catch (error) {
    if (!(error instanceof CspaceError)) throw error;
    throw namingTheHost(host, error);
  }
}

/** The same error, its message starting with the host's name (once). */
function namingTheHost(host: WorkerHost, error: CspaceError): CspaceError {
  const prefix = `host ${host.name}: `;
  if (error.message.startsWith(prefix)) return error;
  const ownHint = `Check that the engine of host ${host.name} (workers.hosts) runs and is reachable from here, or remove the host; \`cspace doctor\` checks each host.`;
  // The engine adapter's own hint speaks of DOCKER_HOST, which chose only the local engine's address.
  const hint = host.kind !== "local" && error.kind === "external" ? ownHint : (error.hint ?? ownHint);
  const details = { cause: error, hint };
  switch (error.kind) {
    case "user":
      return new UserError(`${prefix}${error.message}`, details);
    case "external":
      return new ExternalError(`${prefix}${error.message}`, details);
    case "internal":
      return new InternalError(`${prefix}${error.message}`, details);
  }
}
