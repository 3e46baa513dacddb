import { frameBytes, MAX_RELAY_CHANNELS, openerOf, type ChannelBody, type Opener, type SequencedFrame } from "./relay-frames.ts";

/**
 * One direction pair of the relay's reliable stream: what this side sent and
 * the other has not acknowledged (resent after a reconnect), and how far it
 * has received the other's frames in order (so a resent frame is dropped, not
 * delivered twice). Pure; the adapters on both ends drive it.
 *
 * Over one exec the frames arrive in order and complete, so any gap in the
 * other side's numbers, or an ack of a frame never sent, is a broken or
 * hostile peer: the caller ends the exec.
 */
export type Accepted = { readonly kind: "deliver" } | { readonly kind: "duplicate" } | { readonly kind: "violation"; readonly reason: string };

export class RelayLink {
  #outbox: SequencedFrame[] = [];
  #nextSeq = 1;
  #received = 0;
  #unackedBytes = 0;

  /** Numbers a frame and keeps it until acknowledged; send what this returns (now, or on the next resume). */
  queue(body: ChannelBody): SequencedFrame {
    const frame = { ...body, s: this.#nextSeq } as SequencedFrame;
    this.#nextSeq += 1;
    this.#outbox.push(frame);
    this.#unackedBytes += frameBytes(frame);
    return frame;
  }

  /** The last frame of the other side's received in order: what an ack and a hello say. */
  get received(): number {
    return this.#received;
  }

  get unackedBytes(): number {
    return this.#unackedBytes;
  }

  /** Frames sent (or queued) and not acknowledged, oldest first. */
  pending(): readonly SequencedFrame[] {
    return this.#outbox;
  }

  /** The other side has every frame up to `upTo`; null, or why that cannot be true. */
  acknowledge(upTo: number): string | null {
    if (upTo >= this.#nextSeq) return `the peer acknowledged frame ${String(upTo)}, but only ${String(this.#nextSeq - 1)} were sent`;
    let drop = 0;
    while (drop < this.#outbox.length && (this.#outbox[drop]?.s ?? Infinity) <= upTo) {
      const frame = this.#outbox[drop];
      if (frame !== undefined) this.#unackedBytes -= frameBytes(frame);
      drop += 1;
    }
    if (drop > 0) this.#outbox = this.#outbox.slice(drop);
    return null;
  }

  /** A sequenced frame from the other side: deliver it, drop it as a resent duplicate, or end the exec. */
  accept(frame: SequencedFrame): Accepted {
    if (frame.s <= this.#received) return { kind: "duplicate" };
    if (frame.s !== this.#received + 1) return { kind: "violation", reason: `frame ${String(frame.s)} arrived while ${String(this.#received + 1)} was due` };
    this.#received = frame.s;
    return { kind: "deliver" };
  }

  /** The same session goes on over a new exec: what to resend, after the other side's hello said how far it got. */
  resume(peerReceived: number): { readonly resend: readonly SequencedFrame[] } | { readonly violation: string } {
    const wrong = this.acknowledge(peerReceived);
    return wrong === null ? { resend: this.#outbox } : { violation: wrong };
  }

  /**
   * The other side is a new session (a new relay process): numbering starts
   * again in both directions; the frames `keep` chooses are renumbered, in
   * order, to be sent to it; the rest are dropped.
   */
  restart(keep: (frame: SequencedFrame) => boolean): readonly SequencedFrame[] {
    const kept = this.#outbox.filter(keep);
    this.#outbox = [];
    this.#unackedBytes = 0;
    this.#nextSeq = 1;
    this.#received = 0;
    return kept.map((frame) => this.queue(bodyOf(frame)));
  }
}

function bodyOf(frame: SequencedFrame): ChannelBody {
  return frame.t === "data" ? { t: "data", ch: frame.ch, d: frame.d } : { t: frame.t, ch: frame.ch };
}

/**
 * Which channels are open on a relay, and whether a frame from the other side
 * may touch one: an `open` only with the other side's parity and a fresh
 * (rising) id, under the bound; `data` and `end` only on a channel that is
 * open and whose other side has not ended. Anything else is a forged channel.
 */
export type ChannelCheck = { readonly ok: true; readonly forget: boolean } | { readonly ok: false; readonly reason: string };

interface ChannelEnds {
  sentEnd: boolean;
  gotEnd: boolean;
}

export class ChannelBook {
  readonly #self: Opener;
  readonly #channels = new Map<number, ChannelEnds>();
  #lastOwn: number;
  #lastPeer: number;
  readonly #max: number;

  constructor(self: Opener, max = MAX_RELAY_CHANNELS) {
    this.#self = self;
    this.#lastOwn = self === "host" ? 0 : -1;
    this.#lastPeer = self === "host" ? -1 : 0;
    this.#max = max;
  }

  get size(): number {
    return this.#channels.size;
  }

  has(channel: number): boolean {
    return this.#channels.has(channel);
  }

  /** A new id for a channel this side opens; null when MAX channels are open. */
  openOwn(): number | null {
    if (this.#channels.size >= this.#max) return null;
    this.#lastOwn += 2;
    this.#channels.set(this.#lastOwn, { sentEnd: false, gotEnd: false });
    return this.#lastOwn;
  }

  /** This side sent `end`; true when the channel is now done both ways (forgotten). */
  sentEnd(channel: number): boolean {
    const ends = this.#channels.get(channel);
    if (ends === undefined) return true;
    ends.sentEnd = true;
    return this.#forgetIfDone(channel, ends);
  }

  /** Checks a frame from the other side against the channels; an ok `end` may forget the channel. */
  check(body: ChannelBody): ChannelCheck {
    const ends = this.#channels.get(body.ch);
    if (body.t === "open") {
      if (openerOf(body.ch) === this.#self) return { ok: false, reason: `the peer opened channel ${String(body.ch)}, an id only this side gives out` };
      if (body.ch <= this.#lastPeer) return { ok: false, reason: `the peer opened channel ${String(body.ch)} again` };
      if (this.#channels.size >= this.#max) return { ok: false, reason: `the peer opened more than ${String(this.#max)} channels at once` };
      this.#lastPeer = body.ch;
      this.#channels.set(body.ch, { sentEnd: false, gotEnd: false });
      return { ok: true, forget: false };
    }
    if (ends === undefined) return { ok: false, reason: `the peer sent ${body.t} on channel ${String(body.ch)}, which is not open` };
    if (ends.gotEnd) return { ok: false, reason: `the peer sent ${body.t} on channel ${String(body.ch)} after ending it` };
    if (body.t === "end") {
      ends.gotEnd = true;
      return { ok: true, forget: this.#forgetIfDone(body.ch, ends) };
    }
    return { ok: true, forget: false };
  }

  /** The other side is a new session: its channels are gone, and so are ours but `keep`; returns the ids dropped. */
  restart(keep: ReadonlySet<number>): number[] {
    const lost = [...this.#channels.keys()].filter((channel) => !keep.has(channel));
    for (const channel of lost) this.#channels.delete(channel);
    this.#lastPeer = this.#self === "host" ? -1 : 0;
    return lost;
  }

  #forgetIfDone(channel: number, ends: ChannelEnds): boolean {
    if (!ends.sentEnd || !ends.gotEnd) return false;
    this.#channels.delete(channel);
    return true;
  }
}
