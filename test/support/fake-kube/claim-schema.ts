import { Ajv } from "ajv";
import { isLabelKey, isLabelValue } from "../../../src/adapters/kubernetes/labels.ts";

/**
 * What the fake API server checks of a PersistentVolumeClaim, in requests and
 * in its own answers: as ./pod-schema.ts does for Pods, the part cspace
 * touches of the OpenAPI v2 definitions io.k8s.api.core.v1.{PersistentVolumeClaim,
 * PersistentVolumeClaimSpec,VolumeResourceRequirements,PersistentVolumeClaimStatus}
 * (Kubernetes 1.30), copied by hand, plus what the apiserver's
 * ValidatePersistentVolumeClaim adds: at least one access mode, a storage
 * request, ReadWriteOncePod alone. Unknown fields in the spec are refused.
 */
const DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
const DNS_SUBDOMAIN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
const QUANTITY = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";
const ACCESS_MODES = ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"];

const stringMap = { type: "object", additionalProperties: { type: "string" } };
const quantities = { type: "object", additionalProperties: { type: "string", pattern: QUANTITY } };

const claimSchema = {
  type: "object",
  required: ["apiVersion", "kind", "metadata", "spec"],
  properties: {
    apiVersion: { const: "v1" },
    kind: { const: "PersistentVolumeClaim" },
    metadata: {
      type: "object",
      required: ["name"],
      properties: {
        name: { type: "string", pattern: DNS_SUBDOMAIN, maxLength: 253 },
        namespace: { type: "string", pattern: DNS_LABEL },
        labels: stringMap,
        annotations: stringMap,
        uid: { type: "string" },
        resourceVersion: { type: "string" },
        creationTimestamp: { type: "string" },
        deletionTimestamp: { type: "string" },
        finalizers: { type: "array", items: { type: "string" } },
      },
    },
    spec: {
      type: "object",
      required: ["accessModes", "resources"],
      additionalProperties: false,
      properties: {
        accessModes: { type: "array", minItems: 1, uniqueItems: true, items: { enum: ACCESS_MODES } },
        resources: { type: "object", required: ["requests"], additionalProperties: false, properties: { limits: quantities, requests: { ...quantities, required: ["storage"] } } },
        storageClassName: { type: "string", pattern: DNS_SUBDOMAIN, maxLength: 253 },
        volumeMode: { enum: ["Block", "Filesystem"] },
        volumeName: { type: "string" },
      },
    },
    status: {
      type: "object",
      additionalProperties: false,
      properties: { phase: { enum: ["Pending", "Bound", "Lost"] }, accessModes: { type: "array", items: { enum: ACCESS_MODES } }, capacity: quantities },
    },
  },
};

const validate = new Ajv({ allErrors: true }).compile(claimSchema);

/** The ways `claim` breaks the PersistentVolumeClaim schema and the apiserver's validation; empty when it is a valid claim. */
export function claimViolations(claim: unknown): string[] {
  const problems: string[] = [];
  if (!validate(claim)) {
    for (const error of validate.errors ?? []) problems.push(`${error.instancePath || "/"} ${error.message ?? "is invalid"}`);
  }
  const { metadata, spec } = (claim ?? {}) as { metadata?: { labels?: unknown; annotations?: unknown }; spec?: { accessModes?: unknown } };
  if (Array.isArray(spec?.accessModes) && spec.accessModes.includes("ReadWriteOncePod") && spec.accessModes.length > 1) {
    problems.push("/spec/accessModes may not use ReadWriteOncePod with other access modes");
  }
  if (typeof metadata?.labels === "object" && metadata.labels !== null) {
    for (const [key, value] of Object.entries(metadata.labels)) {
      if (!isLabelKey(key)) problems.push(`/metadata/labels: ${JSON.stringify(key)} is not a valid label key`);
      if (typeof value !== "string" || !isLabelValue(value)) problems.push(`/metadata/labels/${key}: ${JSON.stringify(value)} is not a valid label value`);
    }
  }
  if (typeof metadata?.annotations === "object" && metadata.annotations !== null) {
    for (const key of Object.keys(metadata.annotations)) if (!isLabelKey(key)) problems.push(`/metadata/annotations: ${JSON.stringify(key)} is not a valid annotation key`);
  }
  return problems;
}
