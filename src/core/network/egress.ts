import { createHash } from "node:crypto";
import { WORKER_BUNDLE_DIR } from "../messaging/layout.ts";
import type { EgressPolicy } from "./allowlist.ts";

/**
 * The per-project egress setup of an allowlist: an internal Docker network
 * (no route out) the workers join, a plain bridge network for the way out,
 * and the proxy container on both. Names and labels only; the adapter makes
 * them (src/adapters/docker/networks.ts) and warm wires them (src/services/warm/egress.ts).
 */

/** The label every network and proxy container of a project's egress carries; its value is the project id. */
export const EGRESS_LABEL = "dev.cspace.egress";
/** What the labelled object is: "workers" or "outside" (networks), "proxy" (the container). */
export const EGRESS_ROLE_LABEL = "dev.cspace.egress-role";
/** On the proxy: a digest of its allowlist and image, so a changed allowlist replaces it. */
export const EGRESS_POLICY_LABEL = "dev.cspace.egress-policy";

/** The proxy's name on the workers' network, as workers reach it. */
export const PROXY_ALIAS = "cspace-egress-proxy";
export const PROXY_PORT = 3128;
export const PROXY_URL = `http://${PROXY_ALIAS}:${String(PROXY_PORT)}`;

/** Addresses that never go through the proxy: the container itself. */
export const NO_PROXY = "localhost,127.0.0.1,::1";

/** What the proxy's environment carries its allowlist in (JSON list of hosts). */
export const ALLOWLIST_ENV = "CSPACE_EGRESS_ALLOW";

export interface EgressNames {
  /** Internal: the workers and the proxy, nothing else, no gateway out. */
  readonly workersNetwork: string;
  /** A plain bridge: the proxy's way to the outside. */
  readonly outsideNetwork: string;
  readonly proxyContainer: string;
}

export function egressNames(projectId: string): EgressNames {
  return {
    workersNetwork: `cspace-${projectId}-workers`,
    outsideNetwork: `cspace-${projectId}-outside`,
    proxyContainer: `cspace-${projectId}-egress-proxy`,
  };
}

/**
 * The workers' network: internal (no NAT, no forwarding out) and with no
 * address for the host on its bridge. Without the second, the bridge's
 * gateway address is the host itself, and a worker reaches every host
 * service listening on all interfaces (test/hostile/network.test.ts).
 */
export function workersNetworkSpec(projectId: string): { Name: string; Internal: true; Labels: Record<string, string>; Options: Record<string, string> } {
  return {
    Name: egressNames(projectId).workersNetwork,
    Internal: true,
    Labels: egressLabels(projectId, "workers"),
    Options: { "com.docker.network.bridge.inhibit_ipv4": "true" },
  };
}

export function egressLabels(projectId: string, role: "workers" | "outside" | "proxy"): Record<string, string> {
  return { [EGRESS_LABEL]: projectId, [EGRESS_ROLE_LABEL]: role };
}

/** The network mode and environment a worker gets for a policy; `network` absent means Docker's default (open). */
export interface WorkerNetwork {
  readonly mode?: string;
  readonly env: Readonly<Record<string, string>>;
}

export function workerNetwork(policy: EgressPolicy, projectId: string): WorkerNetwork {
  switch (policy.kind) {
    case "open":
      return { env: {} };
    case "none":
      return { mode: "none", env: {} };
    case "allow":
      return {
        mode: egressNames(projectId).workersNetwork,
        // Both spellings: curl reads only the lower-case http_proxy, most other tools either.
        env: { HTTPS_PROXY: PROXY_URL, HTTP_PROXY: PROXY_URL, https_proxy: PROXY_URL, http_proxy: PROXY_URL, NO_PROXY, no_proxy: NO_PROXY },
      };
  }
}

/** Tells one proxy configuration from another: the same hosts and image give the same digest. */
export function policyDigest(hosts: readonly string[], image: string): string {
  return createHash("sha256").update(JSON.stringify({ hosts, image })).digest("hex").slice(0, 16);
}

/** The proxy's command: the worker bundle's `egress-proxy` role (Node 18, no packages). */
export const PROXY_COMMAND = ["node", `${WORKER_BUNDLE_DIR}/worker.cjs`, "egress-proxy"] as const;
