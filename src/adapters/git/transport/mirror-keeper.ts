import { randomBytes } from "node:crypto";
import { KEEP_ALIVE, type ContainerCreateSpec } from "../../../core/devcontainer/create-options.ts";
import { ExternalError } from "../../../core/errors.ts";
import type { ContainerRuntime } from "../../../core/instances/ports.ts";
import { mirrorVolumeName } from "../../../core/workspaces/transport.ts";

/**
 * The only container that writes a host's mirror: it mounts the mirror's
 * volume read-write at MIRROR_IN_KEEPER and runs nothing but a sleep, so
 * `git receive-pack` can be exec'd in it when the host's store pushes. Made
 * on a transport's first push and kept until the transport closes (one
 * create and start per coordinator run rather than per push); labelled so a
 * leftover one (a killed coordinator) is found and removed.
 *
 * Workers mount the same volume read-only: no worker can write what another
 * clones.
 */

export const MIRROR_IN_KEEPER = "/mirror";

/** Containers that keep a mirror carry these, and never `dev.cspace.project`: `list`, `down` and reconciliation see only workers. */
export const KEEPER_LABELS = { mirrorOf: "dev.cspace.mirror-of", host: "dev.cspace.host" } as const;

export interface MirrorKeeperOptions {
  readonly runtime: ContainerRuntime;
  readonly projectId: string;
  readonly hostName: string;
  /** An image with git on the host (the workers' image has it). */
  readonly image: string;
  /** Labels added to the keeper and the mirror's volume (tests mark what they make). */
  readonly extraLabels?: Readonly<Record<string, string>> | undefined;
  /**
   * false where a container cannot be without a network: a Kubernetes pod
   * always has the cluster's (its runtime refuses `NetworkMode`), and its
   * egress is the namespace's NetworkPolicy's to restrict. Default true.
   */
  readonly withoutNetwork?: boolean | undefined;
}

export function keeperLabels(options: MirrorKeeperOptions): Record<string, string> {
  return { ...options.extraLabels, [KEEPER_LABELS.mirrorOf]: options.projectId, [KEEPER_LABELS.host]: options.hostName };
}

/** Creates and starts a keeper; its id. */
export async function startMirrorKeeper(options: MirrorKeeperOptions): Promise<string> {
  const labels = keeperLabels(options);
  const spec: ContainerCreateSpec = {
    name: `cspace-${mirrorVolumeName(options.projectId).slice("cspace-".length)}-keeper-${randomBytes(4).toString("hex")}`,
    Image: options.image,
    Env: [],
    Labels: labels,
    // Root writes the mirror (a fresh volume is root's); it needs no capability for files it owns.
    User: "0:0",
    WorkingDir: "/",
    Entrypoint: [...KEEP_ALIVE.Entrypoint],
    Cmd: [...KEEP_ALIVE.Cmd],
    HostConfig: {
      Mounts: [{ Type: "volume", Source: mirrorVolumeName(options.projectId), Target: MIRROR_IN_KEEPER, ReadOnly: false, VolumeOptions: { Labels: labels, Shared: true } }],
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      ...(options.withoutNetwork === false ? {} : { NetworkMode: "none" }),
      PidsLimit: 256,
    },
  };
  const id = await options.runtime.create(spec);
  try {
    await options.runtime.start(id);
    // The first use makes the mirror; later ones leave it as it is. It never prunes: workers borrow its objects.
    const made = await options.runtime.exec(id, [
      "sh",
      "-c",
      'test -f "$1/HEAD" || git init --quiet --bare "$1" && git -C "$1" config gc.auto 0 && git -C "$1" config receive.autogc false',
      "sh",
      MIRROR_IN_KEEPER,
    ]);
    if (made.exitCode !== 0) {
      throw new ExternalError(`cannot make the mirror on host ${options.hostName}: ${(made.stderr || made.stdout).trim()}`, {
        hint: `The image ${options.image} must have git (the workers' image does).`,
      });
    }
  } catch (error) {
    await options.runtime.remove(id).catch(() => false);
    throw error;
  }
  return id;
}
