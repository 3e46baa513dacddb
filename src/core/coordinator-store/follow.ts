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
  while (options.signal?.aborted !== true) {
    const events = await store.readSince(last, { runId: options.runId, limit: options.batch ?? 1000 });
    const tail = events.at(-1);
    if (tail !== undefined) {
      last = tail.seq;
      yield events;
      continue;
    }
    try {
      await delay(intervalMs, undefined, { signal: options.signal });
    } catch {
      // Aborted while waiting: the loop's condition ends it.
    }
  }
}
