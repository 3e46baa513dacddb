import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { ExternalError, UserError } from "../../core/errors.ts";

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

/**
 * A dockerode client for the endpoint. `timeoutMs` bounds each request's
 * idle time, so an engine that does not answer fails fast instead of hanging.
 */
export function connectDocker(endpoint: DockerEndpoint, options: { timeoutMs?: number } = {}): Docker {
  return new Docker({ ...endpoint.options, ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }) });
}

export interface EngineVersion {
  readonly version: string;
  readonly apiVersion: string;
  readonly os: string;
  readonly arch: string;
}

/** The engine's version; an ExternalError naming the endpoint when nothing answers. */
export async function engineVersion(docker: Docker, endpoint: DockerEndpoint, timeoutMs: number): Promise<EngineVersion> {
  try {
    const info = await deadline(docker.version(), timeoutMs);
    return { version: info.Version, apiVersion: info.ApiVersion, os: info.Os, arch: info.Arch };
  } catch (error) {
    throw new ExternalError(`no Docker engine at ${endpoint.url}: ${reasonOf(error)}`, { cause: error });
  }
}

export interface ImageFound {
  readonly id: string;
  readonly sizeBytes: number;
  readonly created: string;
}

/** The image with this reference, or null when the engine has none. */
export async function findImage(docker: Docker, reference: string, timeoutMs: number): Promise<ImageFound | null> {
  try {
    const info = await deadline(docker.getImage(reference).inspect(), timeoutMs);
    return { id: info.Id, sizeBytes: info.Size, created: info.Created };
  } catch (error) {
    if (statusOf(error) === 404) return null;
    throw new ExternalError(`cannot inspect image ${reference}: ${reasonOf(error)}`, { cause: error });
  }
}

/** Rejects after `ms` even when the transport has no timeout of its own (ssh). */
async function deadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no answer within ${ms / 1000} s`));
    }, ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function statusOf(error: unknown): number | undefined {
  if (typeof error === "object" && error !== null && "statusCode" in error && typeof error.statusCode === "number") return error.statusCode;
  return undefined;
}

function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = "code" in error && typeof error.code === "string" ? error.code : undefined;
  const status = statusOf(error);
  if (status !== undefined && status !== 500) return `it answered HTTP ${status}, which a Docker engine would not (is this the engine's address?)`;
  if (code === "ENOENT") return "the socket does not exist";
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "EACCES") return "permission denied on the socket (is your user in the docker group?)";
  return error.message.replace(/^\(HTTP code \d+\) /, "");
}
