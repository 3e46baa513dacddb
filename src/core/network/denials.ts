/**
 * The egress proxy's denials, read back from its log (one JSON line each,
 * `{"event":"egress-denied","time":…,"host":…,…}`: src/worker/egress-proxy.ts).
 * The log is the proxy's stdout, which only the host can read (the engine's
 * container log): a worker cannot reach it, nor forge or erase lines in it.
 */

export interface EgressDenials {
  readonly count: number;
  /** Each denied host once, most denied first. */
  readonly hosts: readonly { readonly host: string; readonly count: number }[];
  /**
   * Each worker that was denied, by instance, most denied first; `null` for a
   * source address no worker of the project has now. Absent in reports of
   * older versions. A worker cannot forge its address: NET_RAW and NET_ADMIN
   * are refused on a confined network (core/devcontainer/network-confinement.ts).
   */
  readonly instances?: readonly { readonly instance: string | null; readonly count: number }[] | undefined;
}

/**
 * The denials in `log` at or after `since` (ISO 8601), when given; other
 * lines are ignored. `instanceAt` names the worker at a source address on the
 * workers' network (null when none is known).
 */
export function countDenials(log: string, since?: string, instanceAt: (address: string) => string | null = () => null): EgressDenials {
  const from = since === undefined ? Number.NEGATIVE_INFINITY : Date.parse(since);
  const byHost = new Map<string, number>();
  const byInstance = new Map<string | null, number>();
  let count = 0;
  for (const line of log.split("\n")) {
    const denial = parseDenial(line);
    if (denial === null || Date.parse(denial.time) < from) continue;
    count++;
    byHost.set(denial.host, (byHost.get(denial.host) ?? 0) + 1);
    const instance = denial.from === "" ? null : instanceAt(denial.from);
    byInstance.set(instance, (byInstance.get(instance) ?? 0) + 1);
  }
  const hosts = [...byHost].map(([host, n]) => ({ host, count: n })).sort((a, b) => b.count - a.count || a.host.localeCompare(b.host));
  const instances = [...byInstance]
    .map(([instance, n]) => ({ instance, count: n }))
    // Most denied first; a source no worker has now after the named ones.
    .sort((a, b) => b.count - a.count || Number(a.instance === null) - Number(b.instance === null) || (a.instance ?? "").localeCompare(b.instance ?? ""));
  return { count, hosts, instances };
}

function parseDenial(line: string): { time: string; host: string; from: string } | null {
  if (!line.includes('"egress-denied"')) return null;
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value !== "object" || value === null) return null;
    const { event, time, host, from } = value as Record<string, unknown>;
    // The proxy writes an IPv4-mapped address (::ffff:172.18.0.3) where the socket is dual-stack: the worker's address is its tail.
    const source = typeof from === "string" ? from.replace(/^::ffff:/, "") : "";
    return event === "egress-denied" && typeof time === "string" && typeof host === "string" ? { time, host, from: source } : null;
  } catch {
    return null;
  }
}

/** "3 requests to hosts outside container.network.allow were denied: evil.example (2), 10.0.0.9 (1); from issue-12 (2), issue-10 (1)". */
export function describeDenials(denials: EgressDenials): string {
  const hosts = denials.hosts.slice(0, 5).map((h) => `${h.host} (${String(h.count)})`);
  const more = denials.hosts.length > 5 ? `, and ${String(denials.hosts.length - 5)} more` : "";
  const requests = denials.count === 1 ? "1 request" : `${String(denials.count)} requests`;
  const workers = (denials.instances ?? []).map((w) => `${w.instance ?? "a worker no longer there"} (${String(w.count)})`);
  const from = workers.length === 0 ? "" : `; from ${workers.join(", ")}`;
  return `${requests} to hosts outside container.network.allow ${denials.count === 1 ? "was" : "were"} denied: ${hosts.join(", ")}${more}${from}`;
}
