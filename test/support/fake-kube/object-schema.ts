import { isLabelKey, isLabelValue } from "../../../src/adapters/kubernetes/labels.ts";

/**
 * What every object the fake API server holds shares with the others (Pods
 * and PersistentVolumeClaims, ./pod-schema.ts and ./claim-schema.ts): the
 * OpenAPI v2 io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta fields cspace
 * touches, and the apiserver's checks of label and annotation keys and values.
 */
export const DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
export const DNS_SUBDOMAIN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
export const QUANTITY = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

export const stringMap = { type: "object", additionalProperties: { type: "string" } };

export const objectMeta = {
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
};

/** An object of `kind`: apiVersion v1, its metadata, and its spec and status as given. */
export function objectSchema(kind: string, spec: object, status: object): object {
  return {
    type: "object",
    required: ["apiVersion", "kind", "metadata", "spec"],
    properties: { apiVersion: { const: "v1" }, kind: { const: kind }, metadata: objectMeta, spec, status },
  };
}

/** The schema's errors (Ajv's), and what the apiserver checks of labels and annotations beyond it. */
export function objectViolations(object: unknown, schemaErrors: readonly { readonly instancePath: string; readonly message?: string | undefined }[] | null | undefined): string[] {
  const problems = (schemaErrors ?? []).map((error) => `${error.instancePath || "/"} ${error.message ?? "is invalid"}`);
  const metadata = (object as { metadata?: { labels?: unknown; annotations?: unknown } } | null)?.metadata;
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
