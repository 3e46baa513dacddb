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
}

/** The denials in `log` at or after `since` (ISO 8601), when given; other lines are ignored. */
export function countDenials(log: string, since?: string): EgressDenials {
  const from = since === undefined ? Number.NEGATIVE_INFINITY : Date.parse(since);
  const byHost = new Map<string, number>();
  let count = 0;
  for (const line of log.split("\n")) {
    const denial = parseDenial(line);
    if (denial === null || Date.parse(denial.time) < from) continue;
    count++;
    byHost.set(denial.host, (byHost.get(denial.host) ?? 0) + 1);
  }
  const hosts = [...byHost].map(([host, n]) => ({ host, count: n })).sort((a, b) => b.count - a.count || a.host.localeCompare(b.host));
  return { count, hosts };
}

function parseDenial(line: string): { time: string; host: string } | null {
  if (!line.includes('"egress-denied"')) return null;
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value !== "object" || value === null) return null;
    const { event, time, host } = value as Record<string, unknown>;
    return event === "egress-denied" && typeof time === "string" && typeof host === "string" ? { time, host } : null;
  } catch {
    return null;
  }
}

/** "3 requests to hosts outside container.network.allow were denied: evil.example (2), 10.0.0.9 (1)". */
export function describeDenials(denials: EgressDenials): string {
  const hosts = denials.hosts.slice(0, 5).map((h) => `${h.host} (${String(h.count)})`);
  const more = denials.hosts.length > 5 ? `, and ${String(denials.hosts.length - 5)} more` : "";
  const requests = denials.count === 1 ? "1 request" : `${String(denials.count)} requests`;
  return `${requests} to hosts outside container.network.allow ${denials.count === 1 ? "was" : "were"} denied: ${hosts.join(", ")}${more}`;
}
