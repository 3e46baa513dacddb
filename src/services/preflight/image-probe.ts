import { createHash, randomUUID } from "node:crypto";
import type { LoadedDevcontainer } from "../../adapters/devcontainer/read-devcontainer.ts";
import { KEEP_ALIVE, WORKER_CAPABILITIES, type ContainerCreateSpec } from "../../core/devcontainer/create-options.ts";
import type { ImageObservation } from "../../core/doctor/preflight.ts";
import { ExternalError } from "../../core/errors.ts";
import { LABELS } from "../../core/instances/labels.ts";
import type { ContainerRuntime } from "../../core/instances/ports.ts";

/** Marks the short-lived container of a preflight: `down --all` and test teardowns find it by the project's label. */
export const PREFLIGHT_LABEL = "dev.cspace.preflight";

/** A registry-less image answers in a second; this only stops one that hangs. */
const PROBE_TIMEOUT_MS = 120_000;

export interface ProbeRequest {
  readonly projectId: string;
  readonly loaded: LoadedDevcontainer;
  /** `container.env`, which every worker gets. */
  readonly containerEnv: Readonly<Record<string, string>>;
  readonly pidsLimit: number;
  /** Executables to look for on the container user's PATH. */
  readonly executables: readonly string[];
  /** Whether root's npm matters (the agent's executable may be missing). */
  readonly askNpm: boolean;
  /** Variables whose presence in the container's own environment counts (the agent's credentials). */
  readonly credentialNames: readonly string[];
}

/** What identifies an answer: the same image, user, environment and questions give the same answer. */
export function probeKey(imageId: string, request: ProbeRequest): string {
  const { spec } = request.loaded;
  const inputs = [imageId, spec.remoteUser, spec.containerUser, spec.containerEnv, spec.runArgs.env, spec.remoteEnv, request.containerEnv, [...request.executables].sort(), request.askNpm, [...request.credentialNames].sort()];
  return createHash("sha256").update(JSON.stringify(inputs)).digest("hex");
}

/**
 * One short-lived container of the worker image, as the workers run it (its
 * user, environment and hardening, no network, nothing mounted), asked in one
 * exec which executables the container user finds, then removed. Root's npm
 * is asked only when wanted.
 */
export async function probeImage(runtime: ContainerRuntime, request: ProbeRequest, signal?: AbortSignal): Promise<ImageObservation> {
  const { spec, imageRef } = request.loaded;
  const env = { ...spec.containerEnv, ...spec.runArgs.env, ...request.containerEnv };
  const create: ContainerCreateSpec = {
    name: `cspace-${request.projectId}-preflight-${randomUUID().slice(0, 8)}`,
    Image: imageRef,
    Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
    Labels: { [LABELS.project]: request.projectId, [PREFLIGHT_LABEL]: "1" },
    ...(spec.containerUser === null ? {} : { User: spec.containerUser }),
    WorkingDir: "/",
    Entrypoint: [...KEEP_ALIVE.Entrypoint],
    Cmd: [...KEEP_ALIVE.Cmd],
    HostConfig: {
      Mounts: [],
      PidsLimit: request.pidsLimit,
      CapDrop: ["ALL"],
      CapAdd: [...WORKER_CAPABILITIES],
      SecurityOpt: ["no-new-privileges"],
      NetworkMode: "none",
    },
  };
  const id = await runtime.create(create);
  try {
    await runtime.start(id);
    const timeout = AbortSignal.timeout(PROBE_TIMEOUT_MS);
    const bounded = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
    // Names are validated variable names (presets' data): `eval` reads them safely.
    const script = [
      'while [ "$1" != "--" ]; do command -v "$1" >/dev/null 2>&1 && echo "found $1"; shift; done; shift',
      'for n; do eval "v=\\${$n:-}"; [ -n "$v" ] && echo "env $n"; done; exit 0',
    ].join("\n");
    const user = spec.remoteUser ?? spec.containerUser ?? undefined;
    const answer = await runtime.exec(id, ["/bin/sh", "-c", script, "preflight", ...request.executables, "--", ...request.credentialNames], {
      user,
      env: spec.remoteEnv,
      workdir: "/",
      signal: bounded,
    });
    if (answer.exitCode !== 0) throw new ExternalError(`a shell in ${imageRef} exited ${String(answer.exitCode)}: ${answer.stderr.trim() || answer.stdout.trim()}`);
    const lines = answer.stdout.split("\n");
    const found = new Set(lines.filter((l) => l.startsWith("found ")).map((l) => l.slice(6)));
    const credentialsSet = new Set(lines.filter((l) => l.startsWith("env ")).map((l) => l.slice(4)));
    const npm = request.askNpm ? (await runtime.exec(id, ["/bin/sh", "-c", "command -v npm"], { user: "0", workdir: "/", signal: bounded })).exitCode === 0 : false;
    return { image: imageRef, found, npm, credentialsSet };
  } finally {
    await runtime.remove(id);
  }
}
