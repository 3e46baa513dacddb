import type { ContainerCreateSpec } from "../../core/devcontainer/create-options.ts";
import { UserError } from "../../core/errors.ts";
import type { ContainerDetails, ContainerInfo, ContainerState } from "../../core/instances/ports.ts";
import { wrappedCommand } from "./exec-command.ts";
import { fromKubernetesLabels, podNameFor, toKubernetesLabels } from "./labels.ts";
import type { PodContainer, PodManifest } from "./pod-types.ts";
import { claimNameFor } from "./volume-claims.ts";

/** The one container in every worker pod. */
export const CONTAINER_NAME = "worker";
/** The container name cspace asked for (the pod's name may differ: ./labels.ts podNameFor). */
export const NAME_ANNOTATION = "cspace/container-name";
/** Docker's `User` of the container: the user its commands run as when none is named. */
export const USER_ANNOTATION = "cspace/user";

/**
 * The pod for a container spec, hardened as Docker workers are
 * (src/core/devcontainer/create-options.ts): every capability dropped but
 * the ones cspace keeps and the devcontainer adds, no privilege escalation
 * unless the devcontainer opts out, the runtime's default seccomp profile,
 * the same memory and CPU limits, and `restartPolicy: Never` (a worker that
 * ends stays ended, as a Docker container does).
 *
 * What Kubernetes has no per-pod form for: bind mounts of the host (a remote
 * worker has none), Docker networks (a NetworkPolicy is the cluster's way),
 * and a process limit (the kubelet's podPidsLimit). `Init` maps to a shared
 * process namespace, whose pause process reaps zombies as Docker's init does.
 */
export function podFor(spec: ContainerCreateSpec, namespace: string): PodManifest {
  const host = spec.HostConfig;
  const { volumes, volumeMounts } = volumesOf(spec);
  if (host.NetworkMode !== undefined) {
    throw new UserError(`container ${spec.name} asks for the Docker network ${JSON.stringify(host.NetworkMode)}, which a Kubernetes pod cannot join`, {
      hint: 'Leave "container.network" unset for Kubernetes hosts and restrict egress with a NetworkPolicy in the namespace.',
    });
  }
  const { labels, annotations } = toKubernetesLabels(spec.Labels);
  const limits: Record<string, string> = {};
  if (host.Memory !== undefined) limits.memory = String(host.Memory);
  if (host.NanoCpus !== undefined) limits.cpu = `${String(Math.max(1, Math.round(host.NanoCpus / 1_000_000)))}m`;
  const main = [...(spec.Entrypoint ?? []), ...(spec.Cmd ?? [])];
  // With a user to run as, the pod runs as root and its main process drops to the user, as every exec does: root
  // steps (`user: "0"`) need root to start from. Without an entrypoint of cspace's own the image's runs as is.
  const command = spec.User !== undefined && spec.Entrypoint !== undefined ? wrappedCommand(main, {}, spec.User) : spec.Entrypoint === undefined ? undefined : main;
  const noNewPrivileges = (host.SecurityOpt ?? []).includes("no-new-privileges");
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: podNameFor(spec.name),
      namespace,
      labels,
      annotations: { ...annotations, [NAME_ANNOTATION]: spec.name, ...(spec.User === undefined ? {} : { [USER_ANNOTATION]: spec.User }) },
    },
    spec: {
      restartPolicy: "Never",
      // No API token in a worker: it never talks to the cluster.
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      ...(host.Init === true ? { shareProcessNamespace: true } : {}),
      containers: [
        {
          name: CONTAINER_NAME,
          image: spec.Image,
          ...(command === undefined ? {} : { command }),
          ...(spec.Entrypoint === undefined && spec.Cmd !== undefined ? { args: [...spec.Cmd] } : {}),
          workingDir: spec.WorkingDir,
          env: spec.Env.map(envVar),
          ...(Object.keys(limits).length === 0 ? {} : { resources: { limits, requests: limits } }),
          securityContext: {
            ...(spec.User === undefined ? {} : { runAsUser: 0, runAsNonRoot: false }),
            allowPrivilegeEscalation: !noNewPrivileges,
            capabilities: { drop: [...(host.CapDrop ?? [])], add: [...(host.CapAdd ?? [])] },
            seccompProfile: { type: "RuntimeDefault" },
          },
          ...(volumeMounts.length === 0 ? {} : { volumeMounts }),
        },
      ],
      ...(volumes.length === 0 ? {} : { volumes }),
    },
  };
}

function envVar(entry: string): { name: string; value: string } {
  const at = entry.indexOf("=");
  return at === -1 ? { name: entry, value: "" } : { name: entry.slice(0, at), value: entry.slice(at + 1) };
}

/** Docker volumes become persistent volume claims of the same name (./volume-claims.ts makes them); binds are refused. */
function volumesOf(spec: ContainerCreateSpec): { volumes: NonNullable<NonNullable<PodManifest["spec"]>["volumes"]>; volumeMounts: NonNullable<PodContainer["volumeMounts"]> } {
  const volumes: NonNullable<NonNullable<PodManifest["spec"]>["volumes"]> = [];
  const volumeMounts: NonNullable<PodContainer["volumeMounts"]> = [];
  spec.HostConfig.Mounts.forEach((mount, index) => {
    if (mount.Type === "bind") {
      throw new UserError(`container ${spec.name} mounts ${mount.Source} from the host, which a Kubernetes pod cannot see`, {
        hint: "A Kubernetes worker gets its checkout over git and its files over exec: drop the devcontainer's bind mounts for Kubernetes hosts.",
      });
    }
    const name = `v${String(index)}`;
    volumes.push({ name, persistentVolumeClaim: { claimName: claimNameFor(mount.Source), readOnly: mount.ReadOnly } });
    volumeMounts.push({ name, mountPath: mount.Target, readOnly: mount.ReadOnly });
  });
  return { volumes, volumeMounts };
}

/** A pod as the port's ContainerInfo. */
export function infoOf(pod: PodManifest): ContainerInfo {
  const meta = pod.metadata;
  const name = meta?.name ?? "";
  return {
    id: name,
    name: meta?.annotations?.[NAME_ANNOTATION] ?? name,
    state: stateOf(pod),
    labels: fromKubernetesLabels(meta?.labels, meta?.annotations),
    image: pod.spec?.containers[0]?.image ?? "",
    createdAt: meta?.creationTimestamp === undefined ? new Date(0).toISOString() : new Date(meta.creationTimestamp).toISOString(),
  };
}

export function detailsOf(pod: PodManifest): ContainerDetails {
  const container = pod.spec?.containers.find((c) => c.name === CONTAINER_NAME) ?? pod.spec?.containers[0];
  const ip = pod.status?.podIP;
  return {
    ...infoOf(pod),
    env: (container?.env ?? []).map((v) => `${v.name}=${v.value ?? ""}`),
    addresses: ip === undefined || ip === "" ? {} : { pod: ip },
  };
}

/**
 * Docker's states from a pod's: Pending is "created" (Kubernetes starts a pod
 * once it is scheduled; start() waits for it), Succeeded and Failed are
 * "exited", a pod being deleted is "removing".
 */
export function stateOf(pod: PodManifest): ContainerState {
  if (pod.metadata?.deletionTimestamp !== undefined) return "removing";
  const terminated = pod.status?.containerStatuses?.some((s) => s.state?.terminated !== undefined) === true;
  switch (pod.status?.phase) {
    case "Running":
      return terminated ? "exited" : "running";
    case "Succeeded":
    case "Failed":
      return "exited";
    case "Pending":
    case undefined:
      return "created";
    default:
      return "dead";
  }
}

/** Why a pending pod will not start on its own (an image it cannot pull, a bad spec), or null while it may. */
export function stuckReason(pod: PodManifest): string | null {
  for (const status of pod.status?.containerStatuses ?? []) {
    const waiting = status.state?.waiting;
    if (waiting?.reason !== undefined && ["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError", "RunContainerError"].includes(waiting.reason)) {
      return `${waiting.reason}${waiting.message === undefined ? "" : `: ${waiting.message}`}`;
    }
  }
  return null;
}
