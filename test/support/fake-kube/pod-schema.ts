import { Ajv } from "ajv";
import { isLabelKey, isLabelValue } from "../../../src/adapters/kubernetes/labels.ts";

/**
 * What the fake API server checks of a Pod, in requests and in its own
 * answers. No package on this machine ships Kubernetes' OpenAPI document as
 * JSON (kubernetes-models ships validators generated from it, not the
 * document), so this is the Pod schema's part cspace touches, copied by hand
 * from the OpenAPI v2 definitions io.k8s.api.core.v1.{Pod,PodSpec,Container,
 * EnvVar,SecurityContext,Capabilities,ResourceRequirements,Volume} (Kubernetes
 * 1.30): their types, their required fields, and the apiserver's validation
 * of names, labels, env names, quantities and enums. Unknown fields are
 * refused, as `fieldValidation=Strict` would.
 */
const DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
const DNS_SUBDOMAIN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
const ENV_NAME = "^[-._a-zA-Z][-._a-zA-Z0-9]*$";
const QUANTITY = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";
const CAPABILITY = "^[A-Z_]+$";

const stringMap = { type: "object", additionalProperties: { type: "string" } };
const strings = { type: "array", items: { type: "string" } };

const container = {
  type: "object",
  required: ["name"],
  additionalProperties: false,
  properties: {
    name: { type: "string", pattern: DNS_LABEL, maxLength: 63 },
    image: { type: "string", minLength: 1 },
    command: strings,
    args: strings,
    workingDir: { type: "string" },
    env: {
      type: "array",
      items: { type: "object", required: ["name"], additionalProperties: false, properties: { name: { type: "string", pattern: ENV_NAME }, value: { type: "string" } } },
    },
    resources: {
      type: "object",
      additionalProperties: false,
      properties: {
        limits: { type: "object", additionalProperties: { type: "string", pattern: QUANTITY } },
        requests: { type: "object", additionalProperties: { type: "string", pattern: QUANTITY } },
      },
    },
    securityContext: {
      type: "object",
      additionalProperties: false,
      properties: {
        runAsUser: { type: "integer", minimum: 0 },
        runAsGroup: { type: "integer", minimum: 0 },
        runAsNonRoot: { type: "boolean" },
        allowPrivilegeEscalation: { type: "boolean" },
        privileged: { type: "boolean" },
        capabilities: { type: "object", additionalProperties: false, properties: { add: { type: "array", items: { type: "string", pattern: CAPABILITY } }, drop: { type: "array", items: { type: "string", pattern: CAPABILITY } } } },
        seccompProfile: { type: "object", required: ["type"], additionalProperties: false, properties: { type: { enum: ["RuntimeDefault", "Unconfined", "Localhost"] }, localhostProfile: { type: "string" } } },
      },
    },
    volumeMounts: {
      type: "array",
      items: { type: "object", required: ["name", "mountPath"], additionalProperties: false, properties: { name: { type: "string" }, mountPath: { type: "string" }, readOnly: { type: "boolean" } } },
    },
  },
};

const podSchema = {
  type: "object",
  required: ["apiVersion", "kind", "metadata", "spec"],
  properties: {
    apiVersion: { const: "v1" },
    kind: { const: "Pod" },
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
      },
    },
    spec: {
      type: "object",
      required: ["containers"],
      additionalProperties: false,
      properties: {
        containers: { type: "array", minItems: 1, items: container },
        restartPolicy: { enum: ["Always", "OnFailure", "Never"] },
        automountServiceAccountToken: { type: "boolean" },
        enableServiceLinks: { type: "boolean" },
        shareProcessNamespace: { type: "boolean" },
        volumes: {
          type: "array",
          items: {
            type: "object",
            required: ["name"],
            properties: { name: { type: "string", pattern: DNS_LABEL }, persistentVolumeClaim: { type: "object", required: ["claimName"], properties: { claimName: { type: "string" }, readOnly: { type: "boolean" } } } },
          },
        },
      },
    },
    status: { type: "object" },
  },
};

const validate = new Ajv({ allErrors: true }).compile(podSchema);

/** The ways `pod` breaks the Pod schema and the apiserver's validation; empty when it is a valid Pod. */
export function podViolations(pod: unknown): string[] {
  const problems: string[] = [];
  if (!validate(pod)) {
    for (const error of validate.errors ?? []) problems.push(`${error.instancePath || "/"} ${error.message ?? "is invalid"}`);
  }
  const metadata = (pod as { metadata?: { labels?: unknown; annotations?: unknown } } | null)?.metadata;
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
