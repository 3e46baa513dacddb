/**
 * A token bucket: `capacity` requests at once, refilled at `perSecond`.
 * The coordinator keeps one per instance's `c.sock`, so a worker (a
 * prompt-injected agent looping `cspace send _coordinator`) cannot make the
 * host persist and print without bound: past the bucket its requests get a
 * `rate-limited` reply, are counted, and one notice is shown per burst.
 * Pure: the time is passed in.
 */
export interface RateLimit {
  /** Requests taken at once before any is refused. */
  readonly capacity: number;
  /** Requests per second taken from then on. */
  readonly perSecond: number;
}

/** c.sock: a worker's reports are one per attempt and its messages are for people; 20 at once, then 2 a second, is plenty. */
export const WORKER_RATE_LIMIT: RateLimit = { capacity: 20, perSecond: 2 };

export type Admission =
  | { readonly ok: true }
  /** `firstOfBurst`: the first refusal since the bucket was last full (show it once per burst, not per request). */
  | { readonly ok: false; readonly firstOfBurst: boolean; readonly refused: number };

export class TokenBucket {
  readonly #limit: RateLimit;
  #tokens: number;
  #at: number;
  #refusing = false;
  #refused = 0;

  constructor(limit: RateLimit, nowMs: number) {
    this.#limit = limit;
    this.#tokens = limit.capacity;
    this.#at = nowMs;
  }

  /** Takes one request at `nowMs`, or refuses it. */
  take(nowMs: number): Admission {
    const elapsed = Math.max(0, nowMs - this.#at) / 1000;
    this.#tokens = Math.min(this.#limit.capacity, this.#tokens + elapsed * this.#limit.perSecond);
    this.#at = Math.max(this.#at, nowMs);
    // A burst ends once the sender was quiet long enough for the bucket to fill again, not at the first request
    // taken: a steady flood that gets one through now and then is still one burst, shown once.
    if (this.#tokens >= this.#limit.capacity) this.#refusing = false;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return { ok: true };
    }
    this.#refused += 1;
    const firstOfBurst = !this.#refusing;
    this.#refusing = true;
    return { ok: false, firstOfBurst, refused: this.#refused };
  }

  /** Requests refused since the bucket was made. */
  get refused(): number {
    return this.#refused;
  }
}
