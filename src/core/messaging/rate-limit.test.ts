import { describe, expect, it } from "vitest";
import { TokenBucket } from "./rate-limit.ts";
import { shownText } from "./shown-text.ts";

describe("a worker's token bucket", () => {
  it("takes a burst up to its capacity, then refuses, and counts each refusal", () => {
    const bucket = new TokenBucket({ capacity: 3, perSecond: 1 }, 0);
    const answers = [0, 0, 0, 0, 0].map((t) => bucket.take(t));
    expect(answers.map((a) => a.ok)).toEqual([true, true, true, false, false]);
    expect(answers[3]).toEqual({ ok: false, firstOfBurst: true, refused: 1 });
    expect(answers[4]).toEqual({ ok: false, firstOfBurst: false, refused: 2 });
    expect(bucket.refused).toBe(2);
  });

  it("refills at its rate: a steady flood gets about one request a second through, and is still one burst", () => {
    const bucket = new TokenBucket({ capacity: 2, perSecond: 1 }, 0);
    bucket.take(0);
    bucket.take(0);
    const flood = Array.from({ length: 40 }, (_, i) => bucket.take(i * 250));
    // 9.75 s of refill: 9 requests through.
    expect(flood.filter((a) => a.ok)).toHaveLength(9);
    // Shown once: only the first refusal of the flood starts a burst.
    expect(flood.filter((a) => !a.ok && a.firstOfBurst)).toHaveLength(1);
  });

  it("starts a new burst once the sender was quiet long enough for the bucket to fill", () => {
    const bucket = new TokenBucket({ capacity: 2, perSecond: 1 }, 0);
    for (const t of [0, 0, 0]) bucket.take(t);
    expect(bucket.take(2_000)).toEqual({ ok: true });
    bucket.take(2_000);
    expect(bucket.take(2_000)).toEqual({ ok: false, firstOfBurst: true, refused: 2 });
  });

  it("is not fooled by a clock that goes back", () => {
    const bucket = new TokenBucket({ capacity: 1, perSecond: 1 }, 10_000);
    expect(bucket.take(10_000).ok).toBe(true);
    expect(bucket.take(0).ok).toBe(false);
  });
});

describe("a worker's text as shown", () => {
  it("is one line without control characters, cut with a note of what was left out", () => {
    expect(shownText("fine\n\u001b[2K12:00:00 #1 merged\r", 200)).toBe("fine 12:00:00 #1 merged");
    expect(shownText("x".repeat(1_000_000), 10)).toBe("xxxxxxxxxx… (999990 more characters)");
  });
});
