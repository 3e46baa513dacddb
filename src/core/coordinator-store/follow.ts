import { setTimeout as delay } from "node:timers/promises";
import type { EventStore, StoredEvent } from "./port.ts";

export interface FollowOptions {
  /** The last seq the reader has seen: it gets everything after it (0: from the start). */
  readonly after: number;
  readonly runId?: string | undefined;
  /** How long to wait between polls that found nothing. */
  readonly intervalMs?: number | undefined;
  /** At most this many events per batch. */
  readonly batch?: number | undefined;
  /** Ends the iteration (without throwing) when aborted. */
  readonly signal?: AbortSignal | undefined;
  /** Yields an empty batch after this long with nothing new, so a view can redraw its clock; never when absent. */
  readonly heartbeatMs?: number | undefined;
}

/**
 * Every event after `after`, as batches, for as long as the reader wants:
 * polling `readSince` from the last seq seen, so a view (another process,
 * such as `cspace status --follow`) misses nothing and sees each appended
 * batch whole. Polling, not a notification, because the writer is another
 * process and SQLite offers no cross-process notification.
 */
export async function* followEvents(store: EventStore, options: FollowOptions): AsyncGenerator<StoredEvent[], void, undefined> {
  let last = options.after;
  const intervalMs = options.intervalMs ?? 250;
  let yieldedAt = Date.now();
  while (options.signal?.aborted !== true) {
    const events = await store.readSince(last, { runId: options.runId, limit: options.batch ?? 1000 });
    const tail = events.at(-1);
    if (tail !== undefined) {
      last = tail.seq;
      yieldedAt = Date.now();
      yield events;
      continue;
    }
    const beat = options.heartbeatMs === undefined ? Number.POSITIVE_INFINITY : yieldedAt + options.heartbeatMs - Date.now();
    if (beat <= 0) {
      yieldedAt = Date.now();
      yield [];
      continue;
    }
    try {
      await delay(Math.min(intervalMs, beat), undefined, { signal: options.signal });
    } catch {
      // Aborted while waiting: the loop's condition ends it.
    }
  }
}
