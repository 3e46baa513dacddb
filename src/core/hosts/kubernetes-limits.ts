import type { NetworkSetting } from "../config/rules.ts";

/**
 * What a Kubernetes host cannot do for the workers' devcontainer, in the
 * words warm's refusal (services/warm/sites.ts) and doctor's host check
 * (core/doctor/hosts.ts) both use: build an image, or enforce a
 * `container.network` that needs a Docker network and cspace's egress proxy.
 */

/** `container.network` as a host can enforce it or not. */
export type NetworkAsked = "open" | "none" | "allowlist";

export function networkAsked(setting: NetworkSetting): NetworkAsked {
  return setting === "open" || setting === "none" ? setting : "allowlist";
}

/** What a cluster cannot enforce, as a phrase: `container.network "none"`. */
export function unenforceableNetwork(asked: Exclude<NetworkAsked, "open">): string {
  return `container.network ${asked === "none" ? '"none"' : "an allowlist"}`;
}

export const IMAGE_BUILD_HINT = 'Build the image, push it to a registry the cluster pulls from, and name it in devcontainer.json "image" (or remove the host from workers.hosts).';

export const NETWORK_POLICY_HINT = 'Restrict the namespace\'s egress with a NetworkPolicy and set "container.network": "open" (or remove the host from workers.hosts).';
