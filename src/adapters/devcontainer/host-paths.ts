import { realpath, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { BindSource, GuardedPath, HostPath } from "../../core/devcontainer/host-exposure.ts";
import type { MountSpec } from "../../core/devcontainer/spec.ts";

/** cspace's own folders on the host, which no mount may expose (see core/devcontainer/host-exposure.ts). */
export interface CspaceDirs {
  readonly dataDir: string;
  /** The outermost folder of the run directory cspace makes (every project's sockets are below it). */
  readonly runDir: string;
  /** The instance's own checkout: inside the data directory, and mounted anyway, so a mount from it is allowed. */
  readonly ownWorkspace: string;
}

/**
 * Where container engines listen, besides what DOCKER_HOST names: Docker's
 * system and Desktop sockets, rootless Docker's, containerd's and podman's.
 */
function engineSockets(env: Readonly<Record<string, string | undefined>>, home: string): string[] {
  const sockets = ["/var/run/docker.sock", "/run/docker.sock", path.join(home, ".docker", "run", "docker.sock"), path.join(home, ".docker", "desktop", "docker.sock")];
  sockets.push("/run/containerd/containerd.sock", "/var/run/containerd/containerd.sock", "/run/podman/podman.sock", "/var/run/podman/podman.sock");
  const runtimeDir = env.XDG_RUNTIME_DIR?.trim();
  const uid = process.getuid?.();
  for (const dir of [runtimeDir, uid === undefined ? undefined : `/run/user/${uid}`]) {
    if (dir !== undefined && path.isAbsolute(dir)) sockets.push(path.join(dir, "docker.sock"), path.join(dir, "podman", "podman.sock"), path.join(dir, "containerd", "containerd.sock"));
  }
  const host = env.DOCKER_HOST?.trim() ?? "";
  if (host.startsWith("unix://") && host.length > "unix://".length) sockets.push(host.slice("unix://".length));
  return [...new Set(sockets)];
}

/** The homes of this user: HOME as given, and the account's own (they differ under sudo -E or a changed HOME). */
function homes(env: Readonly<Record<string, string | undefined>>): string[] {
  const given = env.HOME?.trim();
  const own = os.homedir();
  return [...new Set([given, own].filter((home): home is string => home !== undefined && path.isAbsolute(home) && path.resolve(home) !== "/"))];
}

/**
 * Resolved once per process and inputs: warm loads the spec several times
 * per instance, and about twenty paths are resolved each time.
 */
const resolvedGuards = new Map<string, Promise<GuardedPath[]>>();

/** The guarded paths, resolved on this host: root first, so `/` is named as the root rather than as what it contains. */
export function guardedHostPaths(env: Readonly<Record<string, string | undefined>>, dirs: CspaceDirs): Promise<GuardedPath[]> {
  const key = JSON.stringify([env.HOME, env.XDG_RUNTIME_DIR, env.DOCKER_HOST, dirs.dataDir, dirs.runDir]);
  let guarded = resolvedGuards.get(key);
  if (guarded === undefined) {
    guarded = resolveGuards(env, dirs);
    resolvedGuards.set(key, guarded);
  }
  return guarded;
}

async function resolveGuards(env: Readonly<Record<string, string | undefined>>, dirs: CspaceDirs): Promise<GuardedPath[]> {
  const userHomes = homes(env);
  const entries: [string, string, GuardedPath["reach"]][] = [
    ["/", "the host's root", "it-and-above"],
    ...engineSockets(env, userHomes[0] ?? os.homedir()).map((socket): [string, string, GuardedPath["reach"]] => [socket, "a container engine's socket (whoever reaches it controls the host)", "it-and-above"]),
    ...userHomes.map((home): [string, string, GuardedPath["reach"]] => [home, "the user's home folder", "it-and-above"]),
    [dirs.dataDir, "cspace's data directory (every instance's checkout and the object store)", "anywhere-near"],
    [dirs.runDir, "cspace's run directory (every worker's socket and the coordinator's)", "anywhere-near"],
  ];
  return Promise.all(entries.map(async ([where, what, reach]) => ({ ...(await onHost(where)), what, reach })));
}

/** The bind mounts of a devcontainer, each resolved on this host. */
export async function bindSources(mounts: readonly MountSpec[]): Promise<BindSource[]> {
  const binds = mounts.map((mount, index) => ({ mount, key: `mounts[${index}]` })).filter(({ mount }) => mount.type === "bind");
  return Promise.all(binds.map(async ({ mount, key }) => ({ ...(await onHost(mount.source)), key })));
}

/**
 * A path as written (normalised: `..` folded, as Docker folds a mount's
 * source) and as the host resolves it (every symlink followed; for a path
 * that does not exist yet, its deepest existing folder resolved and the rest
 * appended; and unfolded, where `link/..` is the link target's parent), with
 * the identity of what it names when it exists.
 */
export async function onHost(where: string): Promise<HostPath> {
  const written = path.resolve(where);
  const resolved = await resolveExisting(written);
  const physical = await realpath(where).catch(() => resolved);
  const stats = await stat(written).catch(() => null);
  return { forms: [...new Set([written, resolved, physical])], identity: stats === null ? null : `${String(stats.dev)}:${String(stats.ino)}` };
}

async function resolveExisting(absolute: string): Promise<string> {
  const rest: string[] = [];
  let current = absolute;
  for (;;) {
    const real = await realpath(current).catch(() => null);
    if (real !== null) return path.join(real, ...rest.reverse());
    const parent = path.dirname(current);
    if (parent === current) return absolute;
    rest.push(path.basename(current));
    current = parent;
  }
}
