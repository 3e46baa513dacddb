import type { PlacementPolicy } from "../config/rules.ts";

/**
 * Where a new worker goes (`workers.placement`). Pure and deterministic: the
 * same hosts, counts and losses always give the same answer, so a
 * coordinator that resumes after a crash places as it would have.
 */

export interface PlacementHost {
  readonly name: string;
  /** Workers it runs at once. */
  readonly slots: number;
}

export interface PlacementInput {
  /** The configured hosts, in config order (local-first fills them in this order). */
  readonly hosts: readonly PlacementHost[];
  /** Workers each host runs now, by host name; a host not named runs none. */
  readonly running: Readonly<Record<string, number>>;
  /** Hosts known lost (unreachable): nothing is placed on them, and a worker there moves. */
  readonly lost: ReadonlySet<string>;
  readonly policy: PlacementPolicy;
  /**
   * The host of the worker's existing container, if it has one: it stays
   * there (its container already holds that slot) unless the host is lost
   * or no longer configured.
   */
  readonly current?: string | undefined;
}

/** Free slots on each usable host (configured, not lost), in config order. */
export function freeSlots(input: Pick<PlacementInput, "hosts" | "running" | "lost">): { readonly name: string; readonly free: number }[] {
  return input.hosts
    .filter((host) => !input.lost.has(host.name))
    .map((host) => ({ name: host.name, free: host.slots - runningOn(input.running, host.name) }));
}

/** The host for the worker, or null when no usable host has a free slot (it waits for one). */
export function placeWorker(input: PlacementInput): string | null {
  const { current } = input;
  if (current !== undefined && !input.lost.has(current) && input.hosts.some((host) => host.name === current)) return current;
  const open = freeSlots(input).filter((host) => host.free > 0);
  if (input.policy === "local-first") return open[0]?.name ?? null;
  // spread: the most free slots; among equals, the first in config order.
  let best: { readonly name: string; readonly free: number } | undefined;
  for (const host of open) if (best === undefined || host.free > best.free) best = host;
  return best?.name ?? null;
}

function runningOn(running: Readonly<Record<string, number>>, name: string): number {
  // Own keys only: a host named "constructor" must not read Object.prototype's.
  return Object.hasOwn(running, name) ? (running[name] ?? 0) : 0;
}
