import { createHash } from "node:crypto";
import { InternalError, UserError } from "../errors.ts";
import { INSTANCE_DIR_IN_CONTAINER } from "../messaging/layout.ts";
import type { WorkerNetwork } from "../network/egress.ts";
import type { DevcontainerSpec, MountSpec } from "./spec.ts";

/**
 * A narrow mirror of the Docker Engine API `ContainerCreate` body (plus the
 * name), typed here because core may not import dockerode. Field names match
 * the API, so the adapter passes it through as is.
 */
export interface ContainerCreateSpec {
  readonly name: string;
  readonly Image: string;
  /** `KEY=VALUE`. */
  readonly Env: readonly string[];
  readonly Labels: Readonly<Record<string, string>>;
  readonly User?: string;
  readonly WorkingDir: string;
  /** Absent: the image's own entrypoint/command are used (`overrideCommand: false`). */
  readonly Entrypoint?: readonly string[];
  readonly Cmd?: readonly string[];
  readonly HostConfig: {
    readonly Mounts: readonly DockerMount[];
    readonly Memory?: number;
    readonly NanoCpus?: number;
    readonly PidsLimit?: number;
    readonly CapDrop?: readonly string[];
    readonly CapAdd?: readonly string[];
    readonly SecurityOpt?: readonly string[];
    readonly Init?: boolean;
    /** "none", or the network the container joins (an egress allowlist); absent: Docker's default bridge. */
    readonly NetworkMode?: string;
  };
}

export interface DockerMount {
  readonly Type: "bind" | "volume";
  readonly Source: string;
  readonly Target: string;
  readonly ReadOnly: boolean;
  /**
   * A named volume the engine makes on first use carries these labels (so
   * cleanup finds it). `Shared`: several containers mount it at once, on any
   * machine of the host (a host's mirror); Docker's local volumes are shared
   * anyway, a Kubernetes claim is then ReadWriteMany rather than ReadWriteOnce.
   */
  readonly VolumeOptions?: { readonly Labels: Readonly<Record<string, string>>; readonly Shared?: boolean };
}

/**
 * A worker on this machine's engine mounts its checkout and its instance
 * directory (sockets, events, outbox: the only part of the run directory a
 * container sees) from this machine. A worker on another host shares no
 * folder with it: its checkout is a volume the workspace transport fills,
 * and its instance directory is a plain folder inside the container that
 * the relay and the instance mirror carry (docs/architecture.md, "Beyond
 * one machine").
 */
export type WorkerFiles =
  | { readonly kind: "host"; readonly workspace: string; readonly instanceDir: string }
  | { readonly kind: "transport"; readonly mounts: readonly DockerMount[] };

export interface ContainerCreateInput {
  readonly spec: DevcontainerSpec;
  readonly imageRef: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Where the workspace and the instance's own directory come from: this machine's folders, or the workspace transport's volumes. */
  readonly files: WorkerFiles;
  readonly extraMounts?: readonly MountSpec[] | undefined;
  /** From config (container.memory / container.cpus override runArgs; container.pidsLimit). */
  readonly limits: { readonly memoryBytes: number | null; readonly nanoCpus: number | null; readonly pidsLimit: number };
  /** From config (container.env); merged over containerEnv and runArgs --env. */
  readonly env: Readonly<Record<string, string>>;
  /** From config (container.network): the network mode and the proxy's variables (../network/egress.ts). */
  readonly network?: WorkerNetwork | undefined;
}

/** Where its own instance directory (sockets, events, outbox) appears in each container. */
export const RUN_DIR_IN_CONTAINER = INSTANCE_DIR_IN_CONTAINER;

/**
 * The capabilities every worker keeps out of Docker's default set; the
 * others (NET_RAW, MKNOD, SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT,
 * AUDIT_WRITE) are dropped. The container user needs none of them: they only
 * matter to root, and root runs cspace's own steps (git config --system,
 * npm install --global of the agent's CLI, killing a stuck supervisor) and a
 * project's root lifecycle commands (apt-get drops to _apt: SETUID/SETGID;
 * dpkg chowns and keeps setgid bits: CHOWN, FOWNER, FSETID). A devcontainer
 * asks for more with capAdd or runArgs --cap-add.
 */
export const WORKER_CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID"] as const;

/** Keeps a container alive without the image's help, and stops promptly on SIGTERM. */
export const KEEP_ALIVE = {
  Entrypoint: ["/bin/sh", "-c"],
  Cmd: ["trap 'exit 0' TERM INT; while sleep 3600 & wait $!; do :; done"],
} as const;

/**
 * The workspace at spec.workspaceFolder, the instance's own directory at /run/cspace
 * (or the transport's volumes), then the spec's mounts and any extra ones. Config limits override runArgs;
 * config env is merged over runArgs --env, which is merged over containerEnv.
 * Every worker is hardened the same way: all capabilities dropped but
 * WORKER_CAPABILITIES and what the devcontainer adds, no-new-privileges
 * unless it opts out, and a limit on its processes.
 */
export function containerCreateSpec(input: ContainerCreateInput): ContainerCreateSpec {
  const { spec } = input;
  const { files } = input;
  const own: MountSpec[] =
    files.kind === "host"
      ? [
          { type: "bind", source: files.workspace, target: spec.workspaceFolder, readOnly: false },
          { type: "bind", source: files.instanceDir, target: RUN_DIR_IN_CONTAINER, readOnly: false },
        ]
      : [];
  const mounts: MountSpec[] = [...own, ...spec.mounts, ...(input.extraMounts ?? [])];
  const transported = files.kind === "transport" ? files.mounts : [];
  refuseDuplicateTargets([...mounts, ...transported.map((m) => ({ type: m.Type, source: m.Source, target: m.Target, readOnly: m.ReadOnly }))], spec.source);
  // The proxy's variables over the devcontainer's, so agents use it; config env last, as a person's explicit choice.
  const env = { ...spec.containerEnv, ...spec.runArgs.env, ...input.network?.env, ...input.env };
  const memory = input.limits.memoryBytes ?? spec.runArgs.memoryBytes;
  const nanoCpus = input.limits.nanoCpus ?? spec.runArgs.nanoCpus;
  return {
    name: input.name,
    Image: input.imageRef,
    Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
    Labels: { ...input.labels },
    ...(spec.containerUser === null ? {} : { User: spec.containerUser }),
    WorkingDir: spec.workspaceFolder,
    ...(spec.overrideCommand ? { Entrypoint: [...KEEP_ALIVE.Entrypoint], Cmd: [...KEEP_ALIVE.Cmd] } : {}),
    HostConfig: {
      Mounts: [...transported, ...mounts.map((m) => ({ Type: m.type, Source: m.source, Target: m.target, ReadOnly: m.readOnly }))],
      ...(memory === null ? {} : { Memory: memory }),
      ...(nanoCpus === null ? {} : { NanoCpus: nanoCpus }),
      PidsLimit: input.limits.pidsLimit,
      CapDrop: ["ALL"],
      CapAdd: capabilities(spec.runArgs.capAdd),
      // A setuid binary (su, sudo, one the agent finds) cannot raise a process's privileges.
      SecurityOpt: spec.runArgs.noNewPrivileges ? ["no-new-privileges"] : [],
      ...(spec.runArgs.init ? { Init: true } : {}),
      ...(input.network?.mode === undefined ? {} : { NetworkMode: input.network.mode }),
    },
  };
}

/** The baseline and what the devcontainer asks for, once each, as Docker names them (`CAP_SYS_PTRACE` and `sys_ptrace` are `SYS_PTRACE`). */
function capabilities(asked: readonly string[]): string[] {
  const names = asked.map((name) => name.toUpperCase().replace(/^CAP_/, ""));
  return [...new Set([...WORKER_CAPABILITIES, ...names])];
}

function refuseDuplicateTargets(mounts: readonly MountSpec[], source: string): void {
  const seen = new Set<string>();
  for (const mount of mounts) {
    const target = mount.target.replace(/\/+$/, "") || "/";
    if (seen.has(target)) {
      throw new UserError(`${source}: two mounts target ${JSON.stringify(mount.target)}`, {
        hint: `cspace mounts the workspace there or at ${RUN_DIR_IN_CONTAINER}; give each mount its own target`,
      });
    }
    seen.add(target);
  }
}

/**
 * Stable per project checkout and instance, in the shape the reference
 * implementation gives `${devcontainerId}`: sha256 of the identifying labels
 * (sorted JSON), in base 32, 52 characters.
 */
export function devcontainerId(projectDir: string, instance: string): string {
  const labels = { "dev.cspace.instance": instance, "dev.cspace.project-dir": projectDir };
  const digest = createHash("sha256").update(JSON.stringify(labels, Object.keys(labels).sort())).digest("hex");
  return BigInt(`0x${digest}`).toString(32).padStart(52, "0");
}

/** The tag of an image built from a devcontainer's build inputs; same inputs, same tag, reused. */
export function builtImageRef(inputsHash: string): string {
  if (!/^[a-f0-9]{12,64}$/.test(inputsHash)) throw new InternalError(`not an image inputs hash: ${JSON.stringify(inputsHash)}`);
  return `cspace-image:${inputsHash.slice(0, 32)}`;
}
