import type { ContainerCreateSpec, DockerMount } from "../../core/devcontainer/create-options.ts";
import type { VolumeInfo } from "../../core/instances/ports.ts";
import { fromKubernetesLabels, podNameFor, toKubernetesLabels } from "./labels.ts";
import type { ClaimManifest } from "./pod-types.ts";

/**
 * A Docker named volume on Kubernetes is a PersistentVolumeClaim, made when
 * the first pod that mounts it is created (as the engine makes a volume on
 * first use) and deleted by `removeVolume`. What cspace mounts this way is
 * the workspace transport's: a host's mirror (shared) and each worker's
 * checkout (one pod at a time).
 *
 * - Access modes: a shared volume (`VolumeOptions.Shared`: the mirror, written
 *   by its keeper and read by every worker, on whatever nodes they land) is
 *   ReadWriteMany; any other is ReadWriteOnce (one pod, or pods of one node).
 *   A ReadWriteMany claim needs a storage class that provides it (NFS,
 *   CephFS, a cloud's file store): the host's `kubernetes.sharedStorageClass`
 *   names one when the namespace's default cannot.
 * - Size: 10 GiB each, requested, not reserved by every provisioner. The
 *   mirror holds the project's history once; a checkout, its working tree and
 *   build outputs. Not configurable yet.
 */
export const CLAIM_SIZE = "10Gi";

/** The Docker volume name a claim was made for (claim names are DNS names: ./labels.ts podNameFor). */
export const VOLUME_ANNOTATION = "cspace/volume-name";

/** The claim's name for a Docker volume name: the volume's own when it is a DNS name, else a readable part and a digest. */
export function claimNameFor(volume: string): string {
  return podNameFor(volume);
}

export interface ClaimOptions {
  readonly namespace: string;
  /** The storage class of shared claims; the namespace's default when undefined. */
  readonly sharedStorageClass?: string | undefined;
}

/**
 * The claim a volume mount names, labelled as the volume would be on Docker
 * (its `VolumeOptions.Labels`, else the container's), with the same encoding
 * as a pod's labels so selectors find it.
 */
export function claimFor(mount: DockerMount, spec: ContainerCreateSpec, options: ClaimOptions): ClaimManifest {
  const shared = mount.VolumeOptions?.Shared === true;
  const { labels, annotations } = toKubernetesLabels(mount.VolumeOptions?.Labels ?? spec.Labels);
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: claimNameFor(mount.Source), namespace: options.namespace, labels, annotations: { ...annotations, [VOLUME_ANNOTATION]: mount.Source } },
    spec: {
      accessModes: [shared ? "ReadWriteMany" : "ReadWriteOnce"],
      resources: { requests: { storage: CLAIM_SIZE } },
      ...(shared && options.sharedStorageClass !== undefined ? { storageClassName: options.sharedStorageClass } : {}),
    },
  };
}

/** The claims a container spec's volume mounts name, each once (two mounts of one volume make one claim). */
export function claimsOf(spec: ContainerCreateSpec, options: ClaimOptions): ClaimManifest[] {
  const byName = new Map<string, ClaimManifest>();
  for (const mount of spec.HostConfig.Mounts) {
    if (mount.Type !== "volume") continue;
    const claim = claimFor(mount, spec, options);
    const name = claim.metadata?.name ?? "";
    if (!byName.has(name)) byName.set(name, claim);
  }
  return [...byName.values()];
}

/** A claim as the Docker volume it stands for: the volume's name (annotated; else the claim's own) and the labels it was made with. */
export function volumeOf(claim: { readonly metadata?: { readonly name?: string | undefined; readonly labels?: Record<string, string> | undefined; readonly annotations?: Record<string, string> | undefined } | undefined }): VolumeInfo {
  const metadata = claim.metadata;
  const annotations = metadata?.annotations ?? {};
  return { name: annotations[VOLUME_ANNOTATION] ?? metadata?.name ?? "", labels: fromKubernetesLabels(metadata?.labels, annotations) };
}
