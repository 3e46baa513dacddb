import type { NetworkSetting } from "../config/rules.ts";
import { UserError } from "../errors.ts";

/**
 * The egress allowlist: which hosts a worker may reach through cspace's
 * proxy. Pure, and free of imports the worker bundle cannot take, because the
 * proxy itself (src/worker/egress-proxy.ts) decides with `hostAllowed`.
 */

/** The host names each `@alias` stands for, besides `@agent` (the chosen preset's own). */
export const ALIAS_HOSTS: Readonly<Record<string, readonly string[]>> = {
  npm: ["registry.npmjs.org"],
};

/**
 * The allowlist with its `@aliases` replaced by host names, lower-cased,
 * each once, in the order first given. `agentHosts` is what `@agent` means:
 * the preset's `networkHosts`.
 */
export function expandAllowlist(entries: readonly string[], agentHosts: readonly string[]): string[] {
  const hosts: string[] = [];
  for (const entry of entries) {
    const expanded = entry === "@agent" ? agentHosts : entry.startsWith("@") ? aliasHosts(entry.slice(1)) : [entry];
    for (const host of expanded) {
      const normal = normalHost(host);
      if (!hosts.includes(normal)) hosts.push(normal);
    }
  }
  return hosts;
}

function aliasHosts(alias: string): readonly string[] {
  const hosts = Object.hasOwn(ALIAS_HOSTS, alias) ? ALIAS_HOSTS[alias] : undefined;
  if (hosts === undefined) {
    // The config schema refuses unknown aliases first; this guards callers that skip it.
    const valid = ["@agent", ...Object.keys(ALIAS_HOSTS).map((name) => `@${name}`)];
    throw new UserError(`container.network.allow: unknown alias "@${alias}"`, { hint: `use one of ${valid.join(", ")}, or write the host names` });
  }
  return hosts;
}

/** Lower case, without a trailing dot or IPv6 brackets: how the proxy compares names. */
export function normalHost(host: string): string {
  const bare = host.trim().toLowerCase().replace(/\.$/, "");
  return bare.startsWith("[") && bare.endsWith("]") ? bare.slice(1, -1) : bare;
}

/** Whether `host` is an IPv4 or IPv6 address rather than a name. */
export function isIpLiteral(host: string): boolean {
  const bare = normalHost(host);
  return /^\d{1,3}(?:\.\d{1,3}){3}$/.test(bare) || (bare.includes(":") && /^[0-9a-f:.]+$/.test(bare));
}

/**
 * Whether the proxy lets a request to `host` through: an exact entry, or a
 * `*.suffix` entry for any name below the suffix (not the suffix itself). An
 * IP address passes only when listed exactly: a wildcard names domains, and
 * allowing addresses by pattern would let a worker reach any of them.
 */
export function hostAllowed(host: string, allowlist: readonly string[]): boolean {
  const wanted = normalHost(host);
  if (wanted === "") return false;
  const literal = isIpLiteral(wanted);
  return allowlist.some((entry) => {
    const allowed = normalHost(entry);
    if (allowed === wanted) return true;
    if (literal || !allowed.startsWith("*.")) return false;
    return wanted.endsWith(allowed.slice(1)) && wanted.length > allowed.length - 1;
  });
}

/** What a setting means for the containers: which of the three kinds, and the expanded hosts for an allowlist. */
export type EgressPolicy = { readonly kind: "open" } | { readonly kind: "none" } | { readonly kind: "allow"; readonly hosts: readonly string[] };

export function egressPolicy(setting: NetworkSetting, agentHosts: readonly string[]): EgressPolicy {
  if (setting === "open") return { kind: "open" };
  if (setting === "none") return { kind: "none" };
  return { kind: "allow", hosts: expandAllowlist(setting.allow, agentHosts) };
}
