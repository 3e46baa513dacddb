/**
 * The part of Kubernetes' Pod (core/v1) cspace writes and reads, as plain
 * JSON shapes. client-node's models are classes; building pods as plain
 * objects keeps the pod spec a pure function, and the fake API server
 * (test/support/fake-kube/) speaks the same shapes.
 */
export interface PodMetadata {
  name?: string | undefined;
  namespace?: string | undefined;
  uid?: string | undefined;
  resourceVersion?: string | undefined;
  creationTimestamp?: Date | string | undefined;
  deletionTimestamp?: Date | string | undefined;
  labels?: Record<string, string> | undefined;
  annotations?: Record<string, string> | undefined;
  finalizers?: string[] | undefined;
}

export interface PodContainer {
  name: string;
  image?: string | undefined;
  command?: string[] | undefined;
  args?: string[] | undefined;
  workingDir?: string | undefined;
  env?: { name: string; value?: string | undefined }[] | undefined;
  resources?: { limits?: Record<string, string> | undefined; requests?: Record<string, string> | undefined } | undefined;
  securityContext?:
    | {
        runAsUser?: number | undefined;
        runAsGroup?: number | undefined;
        runAsNonRoot?: boolean | undefined;
        allowPrivilegeEscalation?: boolean | undefined;
        capabilities?: { drop?: string[] | undefined; add?: string[] | undefined } | undefined;
        seccompProfile?: { type: string } | undefined;
      }
    | undefined;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean | undefined }[] | undefined;
}

export interface PodContainerStatus {
  name: string;
  state?:
    | {
        running?: { startedAt?: Date | string | undefined } | undefined;
        waiting?: { reason?: string | undefined; message?: string | undefined } | undefined;
        terminated?: { exitCode: number; reason?: string | undefined } | undefined;
      }
    | undefined;
}

export interface PodManifest {
  apiVersion?: string | undefined;
  kind?: string | undefined;
  metadata?: PodMetadata | undefined;
  spec?:
    | {
        containers: PodContainer[];
        restartPolicy?: string | undefined;
        automountServiceAccountToken?: boolean | undefined;
        enableServiceLinks?: boolean | undefined;
        shareProcessNamespace?: boolean | undefined;
        volumes?: { name: string; persistentVolumeClaim?: { claimName: string; readOnly?: boolean | undefined } | undefined }[] | undefined;
      }
    | undefined;
  status?:
    | {
        phase?: string | undefined;
        podIP?: string | undefined;
        containerStatuses?: PodContainerStatus[] | undefined;
      }
    | undefined;
}

/**
 * The part of a PersistentVolumeClaim (core/v1) cspace writes and reads: the
 * claim a Docker volume mount names (./volume-claims.ts).
 */
export interface ClaimManifest {
  apiVersion?: string | undefined;
  kind?: string | undefined;
  metadata?: PodMetadata | undefined;
  spec?:
    | {
        accessModes?: string[] | undefined;
        resources?: { requests?: Record<string, string> | undefined } | undefined;
        storageClassName?: string | undefined;
        volumeMode?: string | undefined;
        volumeName?: string | undefined;
      }
    | undefined;
  status?: { phase?: string | undefined; accessModes?: string[] | undefined; capacity?: Record<string, string> | undefined } | undefined;
}
