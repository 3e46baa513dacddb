import { Ajv } from "ajv";
import { DNS_SUBDOMAIN, objectViolations, objectSchema, QUANTITY } from "./object-schema.ts";

/**
 * What the fake API server checks of a PersistentVolumeClaim, in requests and
 * in its own answers: as ./pod-schema.ts does for Pods, the part cspace
 * touches of the OpenAPI v2 definitions io.k8s.api.core.v1.{PersistentVolumeClaim,
 * PersistentVolumeClaimSpec,VolumeResourceRequirements,PersistentVolumeClaimStatus}
 * (Kubernetes 1.30), copied by hand (metadata: ./object-schema.ts), plus what the apiserver's
 * ValidatePersistentVolumeClaim adds: at least one access mode, a storage
 * request, ReadWriteOncePod alone. Unknown fields in the spec are refused.
 */
const ACCESS_MODES = ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"];

const quantities = { type: "object", additionalProperties: { type: "string", pattern: QUANTITY } };

const claimSchema = objectSchema(
  "PersistentVolumeClaim",
  {
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
  {
    type: "object",
    additionalProperties: false,
    properties: { phase: { enum: ["Pending", "Bound", "Lost"] }, accessModes: { type: "array", items: { enum: ACCESS_MODES } }, capacity: quantities },
  },
);

const validate = new Ajv({ allErrors: true }).compile(claimSchema);

/** The ways `claim` breaks the PersistentVolumeClaim schema and the apiserver's validation; empty when it is a valid claim. */
export function claimViolations(claim: unknown): string[] {
  const valid = validate(claim);
  const problems = objectViolations(claim, valid ? [] : validate.errors);
  const spec = (claim as { spec?: { accessModes?: unknown } } | null)?.spec;
  if (Array.isArray(spec?.accessModes) && spec.accessModes.includes("ReadWriteOncePod") && spec.accessModes.length > 1) {
    problems.push("/spec/accessModes may not use ReadWriteOncePod with other access modes");
  }
  return problems;
}
