import type { Agent } from "node:http";
import Docker from "dockerode";
import { ExternalError } from "../../core/errors.ts";
import type { DockerEndpoint } from "./endpoint.ts";
import { deadline, statusOf, unreachableReason } from "./errors.ts";

/*
 * dockerode, loaded with this module: for doctor, which reports on the engine
 * in depth. Commands on the hot path (list, plan) go through ./containers.ts,
 * which loads dockerode only for the operations that need it.
 */
export { dockerEndpoint, type DockerEndpoint } from "./endpoint.ts";

/**
 * A dockerode client for the endpoint. `timeoutMs` bounds each request's
 * idle time, so an engine that does not answer fails fast instead of hanging.
 */
export function connectDocker(endpoint: DockerEndpoint, options: { timeoutMs?: number } = {}): Docker {
  // docker-modem takes an http.Agent (`agent`, a remote engine's SSH channels), which dockerode's types leave out.
  const agent: { agent?: Agent } = endpoint.agent === undefined ? {} : { agent: endpoint.agent };
  return new Docker({ ...endpoint.options, ...agent, ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }) });
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
    throw new ExternalError(`no Docker engine at ${endpoint.url}: ${unreachableReason(error)}`, { cause: error });
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
    throw new ExternalError(`cannot inspect image ${reference}: ${unreachableReason(error)}`, { cause: error });
  }
}
