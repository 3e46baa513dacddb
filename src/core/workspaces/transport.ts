/**
 * The workspace transport: how a worker gets its checkout and how its branch
 * comes back, whatever the host it runs on. Locally a checkout is a host
 * directory borrowing the project's store (adapters/git/workspaces.ts). On a
 * host that shares no filesystem with cspace (a remote Docker engine, a
 * Kubernetes cluster) everything goes through the engine's API: the host's
 * store pushes the commits workers need into one read-only mirror per host,
 * each worker clones from it, and its branch is fetched back into a
 * quarantine repository on this machine, where it is checked before the
 * branch mover pushes it to the forge (docs/architecture.md, "The workspace
 * transport").
 *
 * One transport object serves one host (it holds that host's runtime), so
 * no call names the host again.
 */

import type { DockerMount } from "../devcontainer/create-options.ts";
import { UserError } from "../errors.ts";
import { STORE_IN_CONTAINER, type ContainerRuntime } from "../instances/ports.ts";
import { assertBranchName } from "../plan/feature-branch.ts";

/** A commit the workers of a host need, under the branch name they will know it by (`origin/<name>`). */
export interface RefToPush {
  readonly name: string;
  readonly sha: string;
}

export interface CheckoutRequest {
  readonly instance: string;
  /** The branch the agent works on (made at `commit`). */
  readonly branch: string;
  readonly commit: string;
  /** The workspace folder in the container (the instance's checkout volume is mounted there). */
  readonly path: string;
  /** The container user that owns the checkout: a name or uid[:gid], as exec takes it. */
  readonly user: string;
  /** Written into the checkout's config by the clone (the user's identity, `cspace.base`). */
  readonly config?: Readonly<Record<string, string>> | undefined;
}

export interface CollectRequest {
  readonly instance: string;
  /** The workspace folder in the container. */
  readonly path: string;
  readonly branch: string;
  /** Who runs git in the worker: the container user, never root. */
  readonly user: string;
}

export interface Collected {
  /** The branch's commit as the worker had it. */
  readonly sha: string;
  /**
   * A bare repository on this machine whose only alternate is the project's
   * store, holding the worker's new objects (checked) and `refs/heads/<branch>`
   * at `sha`: the branch mover fetches from it exactly as from a worker snapshot.
   */
  readonly repository: string;
  /** The ref the fetch wrote: `refs/cspace/collected/<branch>`. */
  readonly ref: string;
  /** Bytes the worker sent (its ref advertisement and the pack). */
  readonly bytes: number;
}

/** Limits on what one collect may cost: the worker chooses what it sends. */
export interface CollectLimits {
  /** Bytes the worker may send; beyond them the transfer is stopped and nothing is kept. */
  readonly maxBytes: number;
  /** The worker may send nothing for this long (it is working out a pack: keepalives arrive every 5 s). */
  readonly stallMs: number;
  /** The whole transfer. */
  readonly totalMs: number;
}

export const DEFAULT_COLLECT_LIMITS: CollectLimits = { maxBytes: 1024 * 1024 * 1024, stallMs: 60_000, totalMs: 30 * 60_000 };

export interface WorkspaceTransport {
  /** The host's mirror exists (made empty the first time) and can be written. */
  prepareHost(signal?: AbortSignal): Promise<void>;
  /** Brings these commits from the host's store into the mirror, as `refs/heads/<name>`; only objects the mirror lacks travel. */
  pushRefs(refs: readonly RefToPush[], signal?: AbortSignal): Promise<void>;
  /** What a worker container of this instance mounts: the mirror read-only, and its checkout volume at `workspaceFolder`. */
  mountsFor(instance: string, workspaceFolder: string): readonly DockerMount[];
  /** Inside the running worker: a fresh clone of the mirror at `path`, on `branch` at `commit`, owned by `user`, `origin` the mirror. */
  checkout(containerId: string, request: CheckoutRequest, signal?: AbortSignal): Promise<void>;
  /** The worker's branch, fetched into the instance's quarantine repository on this machine. */
  collect(containerId: string, request: CollectRequest, signal?: AbortSignal): Promise<Collected>;
  /** Drops the instance's checkout volume and quarantine (the instance is gone for good). */
  removeInstance(instance: string): Promise<void>;
  /** Releases what the transport holds open on the host (its mirror keeper); the mirror stays. */
  close(): Promise<void>;
}

/** The host a transport serves: its name in config, its engine, and an image with git there (the workers' own) for the mirror keeper. */
export interface TransportHost {
  readonly name: string;
  readonly runtime: ContainerRuntime;
  readonly keeperImage: string;
}

/**
 * Where a worker sees the mirror: the path a local worker sees the store at,
 * so `origin`, the safe.directory warm marks and everything an agent is told
 * are the same on every host.
 */
export const MIRROR_IN_CONTAINER = STORE_IN_CONTAINER;

/** Docker volume names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`. A project id carries the project's name, which may hold anything. */
function volumeSafe(text: string): string {
  return text.replace(/[^a-zA-Z0-9_.-]/g, "_");
}

/** The one mirror of a project on a host. */
export function mirrorVolumeName(projectId: string): string {
  return `cspace-${volumeSafe(projectId)}-mirror`;
}

/** An instance's checkout on a host: kept when its container is remade, as a local checkout is. */
export function checkoutVolumeName(projectId: string, instance: string): string {
  return `cspace-${volumeSafe(projectId)}-work-${volumeSafe(instance)}`;
}

/** The only ref a collect may write in the quarantine. */
export function collectedRef(branch: string): string {
  return `refs/cspace/collected/${assertBranchName(branch, "the worker's branch")}`;
}

/** The explicit refspec of a collect: the worker's one branch, to the quarantine's one ref; nothing else the worker advertises lands. */
export function collectRefspec(branch: string): string {
  return `+refs/heads/${assertBranchName(branch, "the worker's branch")}:${collectedRef(branch)}`;
}

const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** The refspecs of a push into the mirror: forced (the mirror is a cache of the store), each name once. */
export function pushRefspecs(refs: readonly RefToPush[]): string[] {
  const seen = new Map<string, string>();
  for (const ref of refs) {
    assertBranchName(ref.name, "a branch to push to the mirror");
    if (!SHA.test(ref.sha)) throw new UserError(`cannot push ${ref.name} to the mirror: "${ref.sha}" is not a full commit sha`);
    const before = seen.get(ref.name);
    if (before !== undefined && before !== ref.sha) throw new UserError(`cannot push ${ref.name} to the mirror at two commits (${before} and ${ref.sha})`);
    seen.set(ref.name, ref.sha);
  }
  return [...seen].map(([name, sha]) => `+${sha}:refs/heads/${name}`);
}

/** "1 GiB", "512 KiB", "300 bytes": for messages about the cap. */
export function formatBytes(bytes: number): string {
  const units: readonly [number, string][] = [
    [1024 ** 3, "GiB"],
    [1024 ** 2, "MiB"],
    [1024, "KiB"],
  ];
  for (const [size, unit] of units) {
    if (bytes >= size) {
      const value = bytes / size;
      return `${Number.isInteger(value) ? String(value) : value.toFixed(1)} ${unit}`;
    }
  }
  return `${String(bytes)} bytes`;
}

/**
 * What an fsck failure in a fetch names: git prints `error: object <sha>:
 * <id>: <what>` (or `<id>: object <sha> …` for some checks) before it gives
 * up. null when stderr says neither.
 */
export function fsckFailureOf(stderr: string): { object: string; problem: string } | null {
  for (const line of stderr.split("\n")) {
    const named = /object ([0-9a-f]{40,64}): (.+)$/.exec(line);
    if (named?.[1] !== undefined && named[2] !== undefined) return { object: named[1], problem: named[2].trim() };
  }
  if (/fsck error|fsck.* failed/i.test(stderr)) return { object: "unknown", problem: stderr.trim().split("\n").slice(-1)[0] ?? "" };
  return null;
}
