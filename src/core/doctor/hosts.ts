import type { WorkerHost } from "../hosts/hosts.ts";
import { IMAGE_BUILD_HINT, NETWORK_POLICY_HINT, unenforceableNetwork, type NetworkAsked } from "../hosts/kubernetes-limits.ts";
import type { CheckResult } from "./checks.ts";

/**
 * `cspace doctor`'s check of one configured host (workers.hosts): its engine
 * answers, the worker image is there or can be made there, and its slots.
 * Pure: services/doctor.ts looks, this words.
 */

export type EngineObservation =
  | { readonly answered: true; readonly version: string; readonly apiVersion: string; readonly endpoint: string }
  | { readonly answered: false; readonly message: string; readonly hint?: string | undefined };

export type WorkerImageObservation =
  /** `built`: made from a Dockerfile (warm builds it on the host); otherwise an `image` the host must pull or have. */
  | { readonly reference: string; readonly built: boolean; readonly present: boolean }
  | { readonly unchecked: string };

export function hostCheck(host: WorkerHost, engine: EngineObservation, image: WorkerImageObservation | null, network: NetworkAsked = "open"): CheckResult {
  const base = { id: "host", title: `Host ${host.name}`, required: true } as const;
  const slots = `${String(host.slots)} slot${host.slots === 1 ? "" : "s"}`;
  if (!engine.answered) {
    return {
      ...base,
      status: "fail",
      // The message names the host already when the runtime said so.
      detail: engine.message.startsWith(`host ${host.name}: `) ? engine.message : `host ${host.name}: ${engine.message}`,
      hint: engine.hint ?? `Start the engine of host ${host.name} or make it reachable from here, or remove it from workers.hosts.`,
    };
  }
  if (host.kind === "kubernetes") return kubernetesCheck(host, `Kubernetes ${engine.version} at ${engine.endpoint}, ${slots}`, image, network);
  const where = `Docker ${engine.version} (API ${engine.apiVersion}) at ${engine.endpoint}, ${slots}`;
  if (image === null) return { ...base, status: "pass", detail: where };
  if ("unchecked" in image) return { ...base, status: "pass", detail: `${where}; worker image not checked: ${image.unchecked}` };
  if (image.present) return { ...base, status: "pass", detail: `${where}; worker image ${image.reference} is there` };
  if (image.built) return { ...base, status: "pass", detail: `${where}; worker image ${image.reference} not built there yet (the first warm on it builds it)` };
  return {
    ...base,
    status: "warn",
    detail: `${where}; worker image ${image.reference} is not there, and the first warm on it must pull it`,
    hint: `If host ${host.name} cannot reach the image's registry, copy it there: \`docker save ${image.reference} | docker -H <its address> load\`.`,
  };
}

/**
 * A cluster pulls the image on each node as pods start, and builds none:
 * nothing here can say it is there; a Dockerfile, and a network setting
 * only a Docker network enforces, are what warm refuses on such a host.
 */
function kubernetesCheck(host: WorkerHost, where: string, image: WorkerImageObservation | null, network: NetworkAsked): CheckResult {
  const base = { id: "host", title: `Host ${host.name}`, required: true } as const;
  if (network !== "open") {
    return {
      ...base,
      status: "fail",
      detail: `${where}; ${unenforceableNetwork(network)} cannot be enforced on a Kubernetes cluster (it needs a Docker network and cspace's egress proxy)`,
      hint: NETWORK_POLICY_HINT,
    };
  }
  if (image === null) return { ...base, status: "pass", detail: where };
  if ("unchecked" in image) return { ...base, status: "pass", detail: `${where}; worker image not checked: ${image.unchecked}` };
  if (image.built) {
    return {
      ...base,
      status: "fail",
      detail: `${where}; the worker image is built from a Dockerfile, which a Kubernetes cluster cannot do`,
      hint: IMAGE_BUILD_HINT,
    };
  }
  return { ...base, status: "pass", detail: `${where}; worker image ${image.reference} is pulled by the cluster's nodes as each pod starts (not checked from here)` };
}
