import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { RelayEndpoint } from "../../src/adapters/messaging/relay/endpoint.ts";
import type { RelayFrame } from "../../src/core/messaging/relay-frames.ts";

/**
 * The bound on unacknowledged bytes: past it an endpoint stops reading its
 * local connections (a dead transport or a peer that never acks cannot make
 * it buffer without end), and reads again once acks bring it under half.
 */

class StubSocket extends EventEmitter {
  paused = false;
  destroyed = false;
  readableEnded = false;
  pause(): this {
    this.paused = true;
    return this;
  }
  resume(): this {
    this.paused = false;
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    return this;
  }
}

describe("RelayEndpoint", () => {
  it("pauses its connections past the unacknowledged bound and resumes them once acks come", () => {
    const sent: RelayFrame[] = [];
    const endpoint = new RelayEndpoint({ self: "host", maxUnackedBytes: 100_000, dial: () => { throw new Error("no dial here"); }, onViolation: (reason) => { throw new Error(reason); } });
    endpoint.restart((line) => sent.push(JSON.parse(line) as RelayFrame));
    const first = new StubSocket();
    endpoint.adopt(first as unknown as Socket);
    first.emit("data", Buffer.alloc(60_000, 1));
    expect(first.paused).toBe(false);
    first.emit("data", Buffer.alloc(60_000, 2));
    expect(first.paused).toBe(true);
    // A connection adopted while paused starts paused.
    const second = new StubSocket();
    endpoint.adopt(second as unknown as Socket);
    expect(second.paused).toBe(true);

    const last = sent.at(-1);
    expect(last?.t).toBe("open");
    // Acknowledging only the first data frame leaves too much outstanding; everything lets them read again.
    endpoint.acknowledge(2);
    expect(first.paused).toBe(true);
    endpoint.acknowledge(last !== undefined && "s" in last ? last.s : 0);
    expect(first.paused).toBe(false);
    expect(second.paused).toBe(false);
  });

  it("replays to a new session only the requests whose client still waits: one that gave up is never delivered", () => {
    const endpoint = new RelayEndpoint({ self: "host", dial: () => { throw new Error("no dial here"); }, onViolation: (reason) => { throw new Error(reason); } });
    const first: RelayFrame[] = [];
    endpoint.restart((line) => first.push(JSON.parse(line) as RelayFrame));
    // The relay is gone (sshd killed): two requests come meanwhile; the first one's client times out and closes.
    endpoint.detach();
    const gaveUp = new StubSocket();
    const waiting = new StubSocket();
    endpoint.adopt(gaveUp as unknown as Socket);
    endpoint.adopt(waiting as unknown as Socket);
    gaveUp.emit("data", Buffer.from('{"cmd":"send","text":"first"}\n'));
    waiting.emit("data", Buffer.from('{"cmd":"send","text":"second"}\n'));
    // Its client leaves: the server side of a Unix socket sees the end of its input (the socket stays half open).
    gaveUp.readableEnded = true;
    gaveUp.emit("end");
    expect(first).toEqual([]);
    // A new relay session: only the waiting client's request goes, renumbered from 1.
    const replayed: RelayFrame[] = [];
    endpoint.restart((line) => replayed.push(JSON.parse(line) as RelayFrame));
    const texts = replayed.flatMap((frame) => (frame.t === "data" ? [Buffer.from(frame.d, "base64").toString("utf8")] : []));
    expect(texts).toEqual(['{"cmd":"send","text":"second"}\n']);
    expect(replayed.map((frame) => ("s" in frame ? frame.s : 0))).toEqual([1, 2]);
    expect(new Set(replayed.map((frame) => ("ch" in frame ? frame.ch : 0))).size).toBe(1);
  });
});
