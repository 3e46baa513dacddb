import type { EgressPolicy } from "../network/allowlist.ts";
import { UserError } from "../errors.ts";
import type { DevcontainerSpec } from "./spec.ts";

/**
 * Capabilities that let a worker undo its network confinement: NET_ADMIN
 * changes its interfaces, addresses and routes (a way round the internal
 * network and the proxy), NET_RAW forges packets (ARP and source addresses on
 * the workers' network), ALL holds both. `privileged` is refused for every
 * worker already (keys.ts).
 */
const NETWORK_ESCAPES = ["NET_ADMIN", "NET_RAW", "ALL"] as const;

/** Docker takes `net_admin` and `CAP_NET_ADMIN` for NET_ADMIN. */
function capabilityName(text: string): string {
  const upper = text.toUpperCase();
  return upper.startsWith("CAP_") ? upper.slice("CAP_".length) : upper;
}

/**
 * Refuses, with the keys named, a devcontainer that adds a capability to undo
 * the network setting of `container.network` (an allowlist or `none`): the
 * confinement is the worker's only barrier against sending the code anywhere.
 * An `open` network has nothing to undo.
 */
export function refuseNetworkEscapes(spec: DevcontainerSpec, policy: EgressPolicy): void {
  if (policy.kind === "open") return;
  const escapes = spec.runArgs.capAdd.filter((cap) => (NETWORK_ESCAPES as readonly string[]).includes(capabilityName(cap)));
  if (escapes.length === 0) return;
  const setting = policy.kind === "none" ? '"none"' : "an allowlist";
  throw new UserError(
    `${spec.source}: capAdd (or runArgs --cap-add) asks for ${escapes.join(", ")}, which would let the worker undo its network confinement (container.network is ${setting})`,
    { hint: 'remove the capability from the devcontainer.json, or set container.network to "open" in .cspace.json if the workers may reach anything' },
  );
}
