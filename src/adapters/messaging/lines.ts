/**
 * Splits a byte stream into lines with a bound on each line's length, so a
 * peer that never sends a newline cannot make us buffer without limit.
 * Splitting on the byte 0x0a is safe for UTF-8: no multi-byte character
 * contains it, so each line decodes on its own.
 */

export interface LineSink {
  /** A complete line, without its newline (a trailing `\r` is kept: JSON.parse ignores it). */
  line(text: string): void;
  /** The current line passed `maxBytes`; what remains of it up to the next newline is skipped. */
  overflow(): void;
}

const NEWLINE = 0x0a;

export class LineSplitter {
  readonly #maxBytes: number;
  readonly #sink: LineSink;
  #parts: Buffer[] = [];
  #size = 0;
  /** Inside an overlong line: drop bytes until the next newline. */
  #skipping = false;

  constructor(maxBytes: number, sink: LineSink) {
    this.#maxBytes = maxBytes;
    this.#sink = sink;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const end = chunk.indexOf(NEWLINE, start);
      const stop = end === -1 ? chunk.length : end;
      if (!this.#skipping) {
        const piece = chunk.subarray(start, stop);
        if (this.#size + piece.length > this.#maxBytes) {
          this.#parts = [];
          this.#size = 0;
          this.#skipping = true;
          this.#sink.overflow();
        } else if (piece.length > 0) {
          this.#parts.push(piece);
          this.#size += piece.length;
        }
      }
      if (end === -1) return;
      if (this.#skipping) this.#skipping = false;
      else this.#emit();
      start = end + 1;
    }
  }

  /** The stream ended: a last line without a newline still counts. */
  end(): void {
    if (!this.#skipping && this.#size > 0) this.#emit();
    this.#skipping = false;
  }

  #emit(): void {
    const text = Buffer.concat(this.#parts, this.#size).toString("utf8");
    this.#parts = [];
    this.#size = 0;
    this.#sink.line(text);
  }
}
