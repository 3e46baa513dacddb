import { openAttempt } from "./queries.ts";
import type { CoordinatorState, IssueRecord } from "./state.ts";

/**
 * Each worker host's slots (`RunSettings.hostSlots`): an issue whose instance
 * is on a host runs an agent only while that host has fewer open attempts than
 * its slots. Placement decides the host when the instance is made (the pool's
 * warm, `Warmed.host`); this says when a launch there may start, and where
 * an issue held by its full host moves when another host has a slot free.
 */

/** Open attempts per host, for the issues whose host is known. */
export function agentsByHost(state: CoordinatorState): Map<string, number> {
  const used = new Map<string, number>();
  for (const record of Object.values(state.issues)) {
    if (record.host !== null && openAttempt(record) !== null) used.set(record.host, (used.get(record.host) ?? 0) + 1);
  }
  return used;
}

/** The host the record's instance is on when that host's slots bound it (a host the run recorded no slots for is not bounded). */
export function boundedHost(state: CoordinatorState, record: IssueRecord): { readonly host: string; readonly slots: number } | null {
  const slots = record.host === null ? undefined : state.run?.settings.hostSlots?.[record.host];
  return record.host === null || slots === undefined ? null : { host: record.host, slots };
}

/** The host whose slots are all taken by other issues' agents, holding this issue's launch; null when none holds it. */
export function fullHost(state: CoordinatorState, record: IssueRecord): { readonly host: string; readonly slots: number } | null {
  const bound = boundedHost(state, record);
  if (bound === null) return null;
  return (agentsByHost(state).get(bound.host) ?? 0) >= bound.slots ? bound : null;
}

/**
 * The first host, in the order configured, with a slot free for an issue
 * held by its full host `from`, counting the agents `taken` there (open
 * attempts, launches and moves in flight or decided); null when none has
 * one. A host the issue failed to move to before (`NotMoved`) is passed over.
 */
export function hostWithFreeSlot(state: CoordinatorState, taken: ReadonlyMap<string, number>, record: IssueRecord, from: string): string | null {
  const slots = state.run?.settings.hostSlots ?? {};
  for (const [host, count] of Object.entries(slots)) {
    if (host === from || record.notMovedTo.includes(host)) continue;
    if ((taken.get(host) ?? 0) < count) return host;
  }
  return null;
}
