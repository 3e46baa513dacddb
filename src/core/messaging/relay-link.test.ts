import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeFrame, encodeFrame, MAX_FRAME_BYTES, type SequencedFrame } from "./relay-frames.ts";
import { ChannelBook, RelayLink } from "./relay-link.ts";

/**
 * The relay's reliable stream: whatever the exec does (frames lost in
 * flight, reconnects, resends from a stale ack), the receiver delivers the
 * sender's frames in order, each once, and everything once a reconnect lets
 * them through.
 */

type Step =
  | { readonly op: "send" }
  | { readonly op: "deliver"; readonly count: number }
  | { readonly op: "ack" }
  | { readonly op: "drop"; readonly staleResume: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constant<Step>({ op: "send" }),
  fc.integer({ min: 1, max: 5 }).map((count): Step => ({ op: "deliver", count })),
  fc.constant<Step>({ op: "ack" }),
  fc.boolean().map((staleResume): Step => ({ op: "drop", staleResume })),
);

function payload(index: number): string {
  return Buffer.from(`chunk-${String(index)}`).toString("base64");
}

describe("RelayLink", () => {
  it("never loses, reorders or repeats a frame across random drops and reconnects", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
        const sender = new RelayLink();
        const receiver = new RelayLink();
        let wire: SequencedFrame[] = [];
        let sent = 0;
        let lastAckSeen = 0;
        const delivered: string[] = [];
        const take = (frame: SequencedFrame): void => {
          const accepted = receiver.accept(frame);
          expect(accepted.kind).not.toBe("violation");
          if (accepted.kind === "deliver" && frame.t === "data") delivered.push(frame.d);
        };
        for (const s of steps) {
          if (s.op === "send") {
            wire.push(sender.queue({ t: "data", ch: 2, d: payload(sent) }));
            sent += 1;
          } else if (s.op === "deliver") {
            for (const frame of wire.splice(0, s.count)) take(frame);
          } else if (s.op === "ack") {
            expect(sender.acknowledge(receiver.received)).toBeNull();
            lastAckSeen = receiver.received;
          } else {
            // The exec dropped: what was in flight is gone; the hello says how far the receiver got (or an older ack).
            const resumed = sender.resume(s.staleResume ? lastAckSeen : receiver.received);
            if ("violation" in resumed) throw new Error(resumed.violation);
            wire = [...resumed.resend];
          }
          expect(delivered).toEqual(Array.from({ length: delivered.length }, (_, index) => payload(index)));
        }
        const final = sender.resume(receiver.received);
        if ("violation" in final) throw new Error(final.violation);
        for (const frame of final.resend) take(frame);
        expect(delivered).toEqual(Array.from({ length: sent }, (_, index) => payload(index)));
        expect(sender.acknowledge(receiver.received)).toBeNull();
        expect(sender.pending()).toEqual([]);
        expect(sender.unackedBytes).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it("drops a resent frame it already has, and refuses a gap or an ack of a frame never sent", () => {
    const sender = new RelayLink();
    const receiver = new RelayLink();
    const one = sender.queue({ t: "open", ch: 2 });
    const two = sender.queue({ t: "end", ch: 2 });
    expect(receiver.accept(one).kind).toBe("deliver");
    expect(receiver.accept(one).kind).toBe("duplicate");
    expect(receiver.accept({ ...two, s: 3 })).toEqual({ kind: "violation", reason: "frame 3 arrived while 2 was due" });
    expect(sender.acknowledge(5)).toMatch(/acknowledged frame 5, but only 2 were sent/);
  });

  it("on a new session keeps only the frames chosen, renumbered from 1 in their order", () => {
    const link = new RelayLink();
    link.queue({ t: "open", ch: 2 });
    link.queue({ t: "data", ch: 2, d: payload(0) });
    link.queue({ t: "open", ch: 4 });
    link.queue({ t: "data", ch: 4, d: payload(1) });
    expect(link.acknowledge(2)).toBeNull();
    const replay = link.restart((frame) => frame.ch === 4);
    expect(replay).toEqual([{ t: "open", ch: 4, s: 1 }, { t: "data", ch: 4, d: payload(1), s: 2 }]);
    expect(link.received).toBe(0);
  });
});

describe("ChannelBook", () => {
  it("takes opens only with the peer's parity and a fresh id, and data only on an open channel", () => {
    const host = new ChannelBook("host", 2);
    expect(host.check({ t: "open", ch: 2 })).toEqual({ ok: false, reason: "the peer opened channel 2, an id only this side gives out" });
    expect(host.check({ t: "data", ch: 3, d: "AA==" })).toEqual({ ok: false, reason: "the peer sent data on channel 3, which is not open" });
    expect(host.check({ t: "open", ch: 3 })).toEqual({ ok: true, forget: false });
    expect(host.check({ t: "open", ch: 3 })).toEqual({ ok: false, reason: "the peer opened channel 3 again" });
    expect(host.openOwn()).toBe(2);
    expect(host.openOwn()).toBeNull();
    expect(host.check({ t: "open", ch: 5 })).toEqual({ ok: false, reason: "the peer opened more than 2 channels at once" });
    expect(host.check({ t: "end", ch: 3 })).toEqual({ ok: true, forget: false });
    expect(host.check({ t: "data", ch: 3, d: "AA==" })).toEqual({ ok: false, reason: "the peer sent data on channel 3 after ending it" });
    expect(host.sentEnd(3)).toBe(true);
    expect(host.has(3)).toBe(false);
  });

  it("forgets the other side's channels and ours but the kept ones on a new session", () => {
    const host = new ChannelBook("host");
    const own = host.openOwn();
    const unsent = host.openOwn();
    host.check({ t: "open", ch: 1 });
    expect(host.restart(new Set([unsent ?? -1]))).toEqual([own, 1]);
    expect(host.check({ t: "open", ch: 1 })).toEqual({ ok: true, forget: false });
  });
});

describe("decodeFrame", () => {
  it("reads back what it encodes", () => {
    for (const frame of [{ t: "hello", v: 1, session: "ab-12", recv: 3 }, { t: "ack", a: 0 }, { t: "open", s: 1, ch: 2 }, { t: "data", s: 2, ch: 2, d: "aGk=" }, { t: "end", s: 3, ch: 2 }] as const) {
      expect(decodeFrame(encodeFrame(frame).trim())).toEqual({ ok: true, frame });
    }
  });

  it("refuses garbage, unknown kinds, smuggled fields and oversized frames with a reason", () => {
    const reasons = [
      "not json",
      "[1]",
      JSON.stringify({ t: "exec", cmd: "sh" }),
      JSON.stringify({ t: "open", s: 1, ch: 1, path: "/var/run/docker.sock" }),
      JSON.stringify({ t: "data", s: 1, ch: 1, d: "not base64!" }),
      JSON.stringify({ t: "data", s: 0, ch: 1, d: "aGk=" }),
      JSON.stringify({ t: "hello", v: 2, session: "x", recv: 0 }),
      JSON.stringify({ t: "ack", a: -1 }),
      JSON.stringify({ t: "data", s: 1, ch: 1, d: "A".repeat(MAX_FRAME_BYTES) }),
    ].map((line) => {
      const decoded = decodeFrame(line);
      return decoded.ok ? "accepted" : decoded.reason;
    });
    expect(reasons).toEqual([
      'a frame is not JSON: "not json"',
      "a frame is not a JSON object",
      'a frame of unknown kind "exec"',
      "a open frame has fields it must not have: path",
      "a data frame's d is not non-empty base64",
      "a data frame's s or ch is not a positive integer",
      "a hello speaks relay protocol 2, not 1",
      "an ack's a is not a sequence number",
      `a frame is longer than ${String(MAX_FRAME_BYTES)} bytes`,
    ]);
  });
});
