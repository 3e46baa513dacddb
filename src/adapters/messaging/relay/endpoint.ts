import type { Socket } from "node:net";
import { encodeFrame, MAX_DATA_CHUNK_BYTES, openerOf, MAX_UNACKED_BYTES, type AckFrame, type ChannelBody, type Opener, type SequencedFrame } from "../../../core/messaging/relay-frames.ts";
import { ChannelBook, RelayLink } from "../../../core/messaging/relay-link.ts";

/**
 * One end of the message relay (both the host's and the in-container relay's):
 * joins local Unix-socket connections to channels of the frame stream. A
 * connection accepted here becomes a channel this side opens; a channel the
 * other side opens is dialled here with `dial`. The caller owns the transport
 * (an exec's stdio) and the hello; this class owns channels, sequence numbers,
 * acks and resending.
 */

export interface EndpointOptions {
  readonly self: Opener;
  /** Connects to the local socket a channel the other side opens must reach (only ever that one). */
  dial(): Socket;
  /** A frame the other side must not send: the caller ends the transport with this reason. */
  onViolation(reason: string): void;
  readonly maxUnackedBytes?: number;
}

export interface EndpointStats {
  channelsOpened: number;
  framesSent: number;
  framesReceived: number;
  duplicatesDropped: number;
  framesResent: number;
  /** Channels dropped because the other side's session ended with them open. */
  channelsLost: number;
}

export class RelayEndpoint {
  readonly stats: EndpointStats = { channelsOpened: 0, framesSent: 0, framesReceived: 0, duplicatesDropped: 0, framesResent: 0, channelsLost: 0 };
  readonly #options: EndpointOptions;
  readonly #link = new RelayLink();
  readonly #book: ChannelBook;
  /** The local connection of each open channel; null once it closed (the channel waits for the other side's end). */
  readonly #sockets = new Map<number, Socket | null>();
  #write: ((line: string) => void) | null = null;
  #ackScheduled = false;
  #paused = false;

  constructor(options: EndpointOptions) {
    this.#options = options;
    this.#book = new ChannelBook(options.self);
  }

  get received(): number {
    return this.#link.received;
  }

  get openChannels(): number {
    return this.#book.size;
  }

  /** Local clients still waiting on channels this side opened (a channel whose client left stays open until the other side ends it). */
  get localClients(): number {
    let open = 0;
    for (const channel of this.#sockets.keys()) if (openerOf(channel) === this.#options.self && this.#waiting(channel)) open += 1;
    return open;
  }

  /**
   * Whether the local client of a channel is still there: connected, and not
   * done sending. The host's clients (requests, probes) never end their side
   * while they wait for a reply, so one that did has left (over a Unix socket
   * a client's close and its half-close look the same until written to).
   */
  #waiting(channel: number): boolean {
    const socket = this.#sockets.get(channel);
    return socket != null && !socket.readableEnded;
  }

  /** The transport is up and the hellos said the same session goes on: resend what the other side lacks. */
  resume(write: (line: string) => void, peerReceived: number): boolean {
    const resumed = this.#link.resume(peerReceived);
    if ("violation" in resumed) {
      this.#options.onViolation(resumed.violation);
      return false;
    }
    this.#write = write;
    this.stats.framesResent += resumed.resend.length;
    for (const frame of resumed.resend) this.#send(frame);
    this.#unpauseIfRoom();
    return true;
  }

  /**
   * The other side is a new session: every channel it had is gone (their
   * local connections are closed here: connections in flight are lost), and
   * so is every channel of ours it may have seen; a channel of ours whose
   * `open` was never acknowledged is replayed whole (at least once), unless
   * its client has left meanwhile: it gave up waiting (a `cspace send` that
   * timed out and said so), and a request delivered now would be acted on
   * behind its back, or twice once it is sent again.
   */
  restart(write: (line: string) => void): void {
    const waited = (channel: number): boolean => this.#waiting(channel);
    const unopened = new Set(this.#link.pending().filter((frame) => frame.t === "open" && waited(frame.ch)).map((frame) => frame.ch));
    const replay = this.#link.restart((frame) => unopened.has(frame.ch));
    for (const channel of this.#book.restart(unopened)) {
      this.#sockets.get(channel)?.destroy();
      this.#sockets.delete(channel);
      this.stats.channelsLost += 1;
    }
    this.#write = write;
    this.stats.framesResent += replay.length;
    for (const frame of replay) this.#send(frame);
    this.#unpauseIfRoom();
  }

  /** The transport is gone: frames wait (and count against the bound) until the next resume or restart. */
  detach(): void {
    this.#write = null;
  }

  /** An ack of everything received so far: the heartbeat. */
  ack(): AckFrame {
    return { t: "ack", a: this.#link.received };
  }

  /** A local connection to carry to the other side; refused (closed) when the channel bound is reached. */
  adopt(socket: Socket): void {
    const channel = this.#book.openOwn();
    if (channel === null) {
      socket.destroy();
      return;
    }
    this.stats.channelsOpened += 1;
    this.#queue({ t: "open", ch: channel });
    this.#join(channel, socket);
  }

  acknowledge(upTo: number): void {
    const wrong = this.#link.acknowledge(upTo);
    if (wrong !== null) this.#options.onViolation(wrong);
    else this.#unpauseIfRoom();
  }

  /** A sequenced frame from the other side, already decoded and checked for shape. */
  receive(frame: SequencedFrame): void {
    const accepted = this.#link.accept(frame);
    if (accepted.kind === "violation") {
      this.#options.onViolation(accepted.reason);
      return;
    }
    if (accepted.kind === "duplicate") {
      this.stats.duplicatesDropped += 1;
      return;
    }
    this.stats.framesReceived += 1;
    const allowed = this.#book.check(frame);
    if (!allowed.ok) {
      this.#options.onViolation(allowed.reason);
      return;
    }
    this.#scheduleAck();
    if (frame.t === "open") {
      this.stats.channelsOpened += 1;
      this.#join(frame.ch, this.#options.dial());
      return;
    }
    const socket = this.#sockets.get(frame.ch) ?? null;
    if (allowed.forget) this.#sockets.delete(frame.ch);
    if (socket === null || socket.destroyed) return;
    if (frame.t === "data") socket.write(Buffer.from(frame.d, "base64"));
    else socket.end();
  }

  /** Closes every local connection (the relay is going away). */
  destroyAll(): void {
    for (const socket of this.#sockets.values()) socket?.destroy();
    this.#sockets.clear();
  }

  #join(channel: number, socket: Socket): void {
    this.#sockets.set(channel, socket);
    if (this.#paused) socket.pause();
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      if (this.#book.has(channel)) {
        this.#queue({ t: "end", ch: channel });
        if (this.#book.sentEnd(channel)) this.#sockets.delete(channel);
      }
    };
    socket.on("data", (chunk: Buffer) => {
      if (!this.#book.has(channel)) return;
      for (let at = 0; at < chunk.length; at += MAX_DATA_CHUNK_BYTES) {
        this.#queue({ t: "data", ch: channel, d: chunk.subarray(at, at + MAX_DATA_CHUNK_BYTES).toString("base64") });
      }
    });
    socket.on("end", end);
    socket.on("error", () => undefined);
    socket.on("close", () => {
      end();
      if (this.#sockets.get(channel) === socket) this.#sockets.set(channel, null);
    });
  }

  #queue(body: ChannelBody): void {
    const frame = this.#link.queue(body);
    this.#send(frame);
    if (!this.#paused && this.#link.unackedBytes > (this.#options.maxUnackedBytes ?? MAX_UNACKED_BYTES)) {
      // Stop reading local connections until acks come: the other side (or a dead transport) cannot make us buffer without bound.
      this.#paused = true;
      for (const socket of this.#sockets.values()) socket?.pause();
    }
  }

  #unpauseIfRoom(): void {
    if (!this.#paused || this.#link.unackedBytes > (this.#options.maxUnackedBytes ?? MAX_UNACKED_BYTES) / 2) return;
    this.#paused = false;
    for (const socket of this.#sockets.values()) socket?.resume();
  }

  #send(frame: SequencedFrame): void {
    if (this.#write === null) return;
    this.stats.framesSent += 1;
    this.#write(encodeFrame(frame));
  }

  #scheduleAck(): void {
    if (this.#ackScheduled) return;
    this.#ackScheduled = true;
    setImmediate(() => {
      this.#ackScheduled = false;
      this.#write?.(encodeFrame(this.ack()));
    });
  }
}
