import { Ajv } from "ajv";
import { DNS_LABEL, objectSchema, objectViolations, QUANTITY } from "./object-schema.ts";

/**
 * What the fake API server checks of a Pod, in requests and in its own
 * answers. No package on this machine ships Kubernetes' OpenAPI document as
 * JSON (kubernetes-models ships validators generated from it, not the
 * document), so this is the Pod schema's part cspace touches, copied by hand
 * from the OpenAPI v2 definitions io.k8s.api.core.v1.{Pod,PodSpec,Container,
 * EnvVar,SecurityContext,Capabilities,ResourceRequirements,Volume} (Kubernetes
 * 1.30; metadata: ./object-schema.ts): their types, their required fields, and the apiserver's validation
 * of names, labels, env names, quantities and enums. Unknown fields are
 * refused, as `fieldValidation=Strict` would.
 */
const ENV_NAME = "^[-._a-zA-Z][-._a-zA-Z0-9]*$";
const CAPABILITY = "^[A-Z_]+$";

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

const podSchema = objectSchema(
  "Pod",
  {
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
  { type: "object" },
);

const validate = new Ajv({ allErrors: true }).compile(podSchema);

/** The ways `pod` breaks the Pod schema and the apiserver's validation; empty when it is a valid Pod. */
export function podViolations(pod: unknown): string[] {
  const valid = validate(pod);
  return objectViolations(pod, valid ? [] : validate.errors);
}
