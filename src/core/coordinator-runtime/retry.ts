/**
 * How the runtime repeats a world action that failed (a forge call, a push, a
 * warm that threw): it waits longer after each failure in a row, and after
 * `MAX_ACTION_FAILURES` in a row it stops, and the issue fails with the
 * action and the last error as its reason; the run goes on with the others.
 * A failure that cannot pass (git refusing a title, a forge answering 422 to
 * the same request) ends in about a minute instead of repeating for ever; a
 * blip of the network or the forge is ridden out. The count is durable: each
 * failure is an `ActionFailed` event (and a success after failures an
 * `ActionRecovered`), so a resumed run gives up where the one before would have.
 */

/** The wait after the first failure; doubled after each further one. */
export const FIRST_RETRY_DELAY_MS = 2_000;
/** The longest wait between two tries. */
export const MAX_RETRY_DELAY_MS = 60_000;
/** Failures in a row of the same action (kind and issue) after which it is given up: 2 + 4 + 8 + 16 + 32 s of waits. */
export const MAX_ACTION_FAILURES = 6;

/** The wait before the next try, after `failures` (≥ 1) failures in a row. */
export function retryDelayMs(failures: number, firstDelayMs: number = FIRST_RETRY_DELAY_MS, maxDelayMs: number = MAX_RETRY_DELAY_MS): number {
  const doublings = Math.max(0, Math.min(failures - 1, 30));
  return Math.min(maxDelayMs, firstDelayMs * 2 ** doublings);
}
