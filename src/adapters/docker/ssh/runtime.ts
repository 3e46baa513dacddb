import type { ContainerRuntime } from "../../../core/instances/ports.ts";
import { DockerRuntime } from "../containers.ts";
import type { DockerEndpoint } from "../endpoint.ts";
import { SshEngineAgent } from "./agent.ts";
import { SshConnection, type SshConnectionOptions } from "./connection.ts";
import { sshTarget, type SshHostOptions } from "./endpoint.ts";

export type { SshHostOptions } from "./endpoint.ts";

export interface SshRuntimeRequest {
  /** The host's name in the config ("big"): every message about the connection names it. */
  readonly name: string;
  /** ssh://user@host[:port], as in `workers.hosts[].docker`. */
  readonly endpoint: string;
  readonly ssh?: SshHostOptions | undefined;
  /** Where HOME (for `~`), USER and SSH_AUTH_SOCK come from; default process.env. */
  readonly env?: NodeJS.ProcessEnv | undefined;
  /** Keepalive and login timeouts (tests shorten them). */
  readonly connection?: SshConnectionOptions | undefined;
}

export interface SshRuntime {
  /** The remote engine, every request a channel of one SSH connection. */
  readonly runtime: ContainerRuntime;
  /** SSH connections opened so far (1 while it never dropped). */
  connectionsOpened(): number;
  /** Ends the SSH connection; the runtime must not be used after. */
  close(): Promise<void>;
}

/**
 * The ContainerRuntime of a remote Docker engine reached over SSH: the same
 * DockerRuntime as for the local engine, its HTTP carried by an agent whose
 * connections are channels forwarding the remote engine's Unix socket over
 * one SSH connection. Nothing connects until the first request; a
 * configuration error (a bad address, an unreadable key, no key and no
 * agent) is a UserError here, and the host's key is checked against
 * known_hosts on connect.
 */
export async function openSshRuntime(request: SshRuntimeRequest): Promise<SshRuntime> {
  const env = request.env ?? process.env;
  const target = sshTarget(request.name, request.endpoint, request.ssh ?? {}, env);
  const connection = new SshConnection(target, request.connection);
  await connection.checkCredentials();
  const endpoint: DockerEndpoint = {
    url: target.url,
    fromEnv: false,
    options: {
      // Every key docker-modem would otherwise fill from process.env's DOCKER_HOST is set or explicitly unset.
      host: undefined,
      port: undefined,
      protocol: undefined,
      username: undefined,
      ca: undefined,
      cert: undefined,
      key: undefined,
      // The path on the remote host; the agent is what reaches it.
      socketPath: target.remoteSocket,
    },
    agent: new SshEngineAgent(connection),
  };
  return {
    runtime: new DockerRuntime(env, endpoint),
    connectionsOpened: () => connection.connectionsOpened,
    close: () => connection.close(),
  };
}
