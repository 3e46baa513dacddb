import { Duplex } from "node:stream";

/**
 * One SSH channel dressed as the socket Node's HTTP client expects, with a
 * life of its own: ssh2 ends and closes a channel quietly when its
 * connection dies (which reads as a complete answer, so a hijacked exec
 * would look finished), while this socket can be failed with the reason
 * first (`destroy(error)`), and its error reaches the request before any end.
 *
 * Keepalive, no-delay and ref mean nothing for a channel; the idle timeout
 * does (a request's timeout is how a silent engine is noticed), so it is kept.
 */
export class ChannelSocket extends Duplex {
  readonly #channel: Duplex;
  #channelClosed = false;
  #readEnded = false;
  #idleMs = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(channel: Duplex) {
    super({ allowHalfOpen: true });
    this.#channel = channel;
    channel.on("data", (chunk: Buffer) => {
      this.#arm();
      if (!this.push(chunk)) channel.pause();
    });
    channel.on("end", () => {
      this.#endRead();
    });
    channel.on("error", (error: Error) => {
      this.destroy(error);
    });
    channel.on("close", () => {
      this.#channelClosed = true;
      // Closed from the far side: what was read stays readable; nothing more can be written.
      this.#endRead();
      if (!this.writableEnded) this.end();
    });
  }

  setTimeout(ms: number, onTimeout?: () => void): this {
    this.#idleMs = ms;
    if (onTimeout !== undefined) this.once("timeout", onTimeout);
    this.#arm();
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  destroySoon(): void {
    this.destroy();
  }

  override _read(): void {
    this.#channel.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#channelClosed) {
      callback(new Error("the SSH channel to the engine is closed"));
      return;
    }
    this.#arm();
    this.#channel.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.#channelClosed) this.#channel.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.#timer);
    // ssh2's destroy sends EOF and CLOSE; on a connection already gone there is nothing to send them on.
    if (!this.#channelClosed) {
      try {
        this.#channel.destroy();
      } catch {
        // The connection went first.
      }
    }
    callback(error);
  }

  #endRead(): void {
    if (this.#readEnded) return;
    this.#readEnded = true;
    this.push(null);
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = this.#idleMs > 0 && !this.destroyed ? setTimeout(() => this.emit("timeout"), this.#idleMs) : undefined;
  }
}
