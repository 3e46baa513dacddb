import type Docker from "dockerode";
import { ExternalError } from "../../core/errors.ts";
import type { NetworkCreateSpec, NetworkInfo } from "../../core/instances/ports.ts";
import { dockerReason, statusOf } from "./errors.ts";

/** The networks and container logs of the ContainerRuntime port (./containers.ts delegates here). */

export async function ensureNetwork(docker: Docker, spec: NetworkCreateSpec): Promise<string> {
  const found = await findNetwork(docker, spec.Name);
  if (found !== null) return found;
  try {
    const made = await docker.createNetwork({ Name: spec.Name, Driver: "bridge", Internal: spec.Internal, CheckDuplicate: true, Labels: { ...spec.Labels }, Options: { ...spec.Options } });
    return made.id;
  } catch (error) {
    // Another cspace made it between the look and the create: use theirs.
    if (statusOf(error) === 409) {
      const theirs = await findNetwork(docker, spec.Name);
      if (theirs !== null) return theirs;
    }
    throw new ExternalError(`cannot create network ${spec.Name}: ${dockerReason(error)}`, { cause: error });
  }
}

async function findNetwork(docker: Docker, name: string): Promise<string | null> {
  try {
    const info = (await docker.getNetwork(name).inspect()) as { Id: string; Name: string };
    // Inspect also matches by id prefix: only the exact name counts.
    return info.Name === name ? info.Id : null;
  } catch (error) {
    if (statusOf(error) === 404) return null;
    throw new ExternalError(`cannot inspect network ${name}: ${dockerReason(error)}`, { cause: error });
  }
}

export async function listNetworks(docker: Docker, labels: Readonly<Record<string, string>>): Promise<NetworkInfo[]> {
  try {
    const found = await docker.listNetworks({ filters: { label: Object.entries(labels).map(([key, value]) => `${key}=${value}`) } });
    return found.map((n) => ({ id: n.Id, name: n.Name, labels: n.Labels ?? {} }));
  } catch (error) {
    throw new ExternalError(`cannot list networks: ${dockerReason(error)}`, { cause: error });
  }
}

export async function connectNetwork(docker: Docker, network: string, container: string, aliases: readonly string[]): Promise<void> {
  try {
    await docker.getNetwork(network).connect({ Container: container, EndpointConfig: { Aliases: [...aliases] } });
  } catch (error) {
    // 403 "already exists in network": attached, as asked.
    if (statusOf(error) === 403 && /already exists/i.test(dockerReason(error))) return;
    throw new ExternalError(`cannot connect container ${container.slice(0, 12)} to network ${network}: ${dockerReason(error)}`, { cause: error });
  }
}

export async function removeNetwork(docker: Docker, id: string): Promise<boolean> {
  try {
    await docker.getNetwork(id).remove();
    return true;
  } catch (error) {
    if (statusOf(error) === 404) return false;
    throw new ExternalError(`cannot remove network ${id.slice(0, 12)}: ${dockerReason(error)}`, { cause: error });
  }
}

/** Bounded: the tail a count needs, not a whole log of a flood. */
const LOG_TAIL_LINES = 100_000;

export async function containerLogs(docker: Docker, id: string, since: string | undefined): Promise<string> {
  try {
    const container = docker.getContainer(id);
    const sinceSeconds = since === undefined ? 0 : Math.floor(Date.parse(since) / 1000);
    const raw = await container.logs({ stdout: true, stderr: false, follow: false, since: sinceSeconds, tail: LOG_TAIL_LINES });
    const tty = ((await container.inspect()) as { Config: { Tty?: boolean } }).Config.Tty === true;
    return tty ? raw.toString("utf8") : stdoutOfFrames(raw);
  } catch (error) {
    if (statusOf(error) === 404) return "";
    throw new ExternalError(`cannot read the log of container ${id.slice(0, 12)}: ${dockerReason(error)}`, { cause: error });
  }
}

/**
 * Without a TTY the engine frames a log: each chunk behind an 8-byte header
 * (stream type 1 stdout / 2 stderr, three zero bytes, length big-endian).
 */
export function stdoutOfFrames(raw: Buffer): string {
  const out: Buffer[] = [];
  let at = 0;
  while (at + 8 <= raw.length) {
    const size = raw.readUInt32BE(at + 4);
    if (raw[at] === 1) out.push(raw.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(out).toString("utf8");
}
