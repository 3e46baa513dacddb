import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Agent } from "node:http";
import type Docker from "dockerode";
import { UserError } from "../../core/errors.ts";

/**
 * Where the Docker engine is, from DOCKER_HOST like the docker CLI reads it.
 * docker-modem reads DOCKER_HOST itself, but only from process.env and not
 * from the environment cspace was given, so it is parsed here and every
 * connection option is passed explicitly (a key left out would fall back to
 * docker-modem's own reading of process.env).
 */
export interface DockerEndpoint {
  /** As a user would write it: unix:///var/run/docker.sock, tcp://host:2376. */
  readonly url: string;
  /** Whether DOCKER_HOST chose it (rather than the default socket). */
  readonly fromEnv: boolean;
  readonly options: Docker.DockerOptions;
  /**
   * What carries each request instead of a socket of this process (an SSH
   * channel to a remote engine's socket: ./ssh/); `options.socketPath` is
   * then the socket's path on the far side.
   */
  readonly agent?: Agent | undefined;
}

const USAGE = "expected unix:///path/to/docker.sock, tcp://host:port or ssh://user@host";

export function dockerEndpoint(env: NodeJS.ProcessEnv): DockerEndpoint {
  const raw = env.DOCKER_HOST?.trim() ?? "";
  const unset = { host: undefined, port: undefined, protocol: undefined, username: undefined, ca: undefined, cert: undefined, key: undefined };
  if (raw === "" || raw === "unix://") {
    const socketPath = defaultSocket(env);
    return { url: `unix://${socketPath}`, fromEnv: false, options: { ...unset, socketPath } };
  }
  if (raw.startsWith("unix://") || raw.startsWith("npipe://")) {
    const socketPath = raw.slice(raw.indexOf("://") + 3);
    return { url: raw, fromEnv: true, options: { ...unset, socketPath } };
  }
  const url = URL.parse(raw.includes("://") ? raw : `tcp://${raw}`);
  if (url === null || url.hostname === "" || !["tcp:", "http:", "https:", "ssh:"].includes(url.protocol)) {
    throw new UserError(`DOCKER_HOST is "${raw}", which is not a Docker endpoint: ${USAGE}`, {
      hint: "Fix or unset DOCKER_HOST (unset, cspace uses /var/run/docker.sock).",
    });
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (url.protocol === "ssh:") {
    const options: Docker.DockerOptions = { ...unset, socketPath: undefined, protocol: "ssh", host, port: url.port || 22 };
    if (url.username !== "") options.username = decodeURIComponent(url.username);
    if (env.SSH_AUTH_SOCK !== undefined) options.sshOptions = { agent: env.SSH_AUTH_SOCK };
    return { url: raw, fromEnv: true, options };
  }
  const tls = env.DOCKER_TLS_VERIFY === "1" || url.port === "2376" || url.protocol === "https:";
  const options: Docker.DockerOptions = { ...unset, socketPath: undefined, host, port: url.port || (tls ? 2376 : 2375), protocol: tls ? "https" : "http" };
  const certs = env.DOCKER_CERT_PATH;
  if (tls && certs !== undefined && certs !== "") {
    const read = (name: string): Buffer => {
      try {
        return readFileSync(path.join(certs, name));
      } catch (error) {
        throw new UserError(`cannot read ${name} in DOCKER_CERT_PATH (${certs}): ${String(error)}`, { cause: error });
      }
    };
    Object.assign(options, { ca: read("ca.pem"), cert: read("cert.pem"), key: read("key.pem") });
  }
  return { url: raw, fromEnv: true, options };
}

/** Docker Desktop's per-user socket when it exists, else the system socket (as docker-modem does). */
function defaultSocket(env: NodeJS.ProcessEnv): string {
  const user = path.join(env.HOME ?? os.homedir(), ".docker", "run", "docker.sock");
  return existsSync(user) ? user : "/var/run/docker.sock";
}
