import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";

/**
 * The server side of RFC 6455, as much as an exec needs: the handshake with
 * a subprotocol, binary and text messages (fragmented or not), ping, and
 * close. Written here rather than taken from `ws` so the fake's framing is
 * visible and typed; the client under test is client-node's own (`ws`).
 */
export interface ServerSocket {
  readonly protocol: string;
  send(data: Buffer): void;
  close(code?: number): void;
  onMessage(listener: (data: Buffer, binary: boolean) => void): void;
  onClose(listener: () => void): void;
}

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** Completes the upgrade with the first of `supported` the client offers; null (and a 400) when it offers none. */
export function acceptWebSocket(request: IncomingMessage, socket: Duplex, head: Buffer, supported: readonly string[]): ServerSocket | null {
  const key = request.headers["sec-websocket-key"];
  const offered = (request.headers["sec-websocket-protocol"] ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  const protocol = supported.find((p) => offered.includes(p));
  if (typeof key !== "string" || protocol === undefined) {
    socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    return null;
  }
  const accept = createHash("sha1").update(key + GUID).digest("base64");
  socket.write(["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade", `Sec-WebSocket-Accept: ${accept}`, `Sec-WebSocket-Protocol: ${protocol}`, "", ""].join("\r\n"));
  return new FramedSocket(socket, protocol, head);
}

class FramedSocket implements ServerSocket {
  readonly protocol: string;
  readonly #socket: Duplex;
  #buffer: Buffer;
  #fragments: Buffer[] = [];
  #fragmentBinary = true;
  #closed = false;
  readonly #messageListeners: ((data: Buffer, binary: boolean) => void)[] = [];
  readonly #closeListeners: (() => void)[] = [];

  constructor(socket: Duplex, protocol: string, head: Buffer) {
    this.protocol = protocol;
    this.#socket = socket;
    this.#buffer = head;
    socket.on("data", (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#parse();
    });
    socket.on("close", () => {
      this.#ended();
    });
    socket.on("error", () => {
      this.#ended();
    });
    if (head.length > 0) queueMicrotask(() => {
      this.#parse();
    });
  }

  onMessage(listener: (data: Buffer, binary: boolean) => void): void {
    this.#messageListeners.push(listener);
  }

  onClose(listener: () => void): void {
    this.#closeListeners.push(listener);
  }

  send(data: Buffer): void {
    this.#frame(0x2, data);
  }

  close(code = 1000): void {
    if (this.#closed) return;
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(code);
    this.#frame(0x8, payload);
    this.#socket.end();
    this.#ended();
  }

  #ended(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const listener of this.#closeListeners) listener();
  }

  #frame(opcode: number, payload: Buffer): void {
    if (this.#closed || this.#socket.destroyed) return;
    const length = payload.length;
    const header = length < 126 ? Buffer.alloc(2) : length < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    if (length < 126) header[1] = length;
    else if (length < 65536) {
      header[1] = 126;
      header.writeUInt16BE(length, 2);
    } else {
      header[1] = 127;
      header.writeBigUInt64BE(BigInt(length), 2);
    }
    this.#socket.write(Buffer.concat([header, payload]));
  }

  /** Takes every whole frame off the buffer; a client's frames are masked (RFC 6455 §5.3). */
  #parse(): void {
    for (;;) {
      const buffer = this.#buffer;
      if (buffer.length < 2) return;
      const first = buffer.readUInt8(0);
      const second = buffer.readUInt8(1);
      let length = second & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) return;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) return;
        length = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (second & 0x80) !== 0;
      const maskAt = offset;
      if (masked) offset += 4;
      if (buffer.length < offset + length) return;
      const payload = Buffer.from(buffer.subarray(offset, offset + length));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] ?? 0) ^ (buffer[maskAt + (i % 4)] ?? 0);
      this.#buffer = buffer.subarray(offset + length);
      this.#handle(first & 0x0f, (first & 0x80) !== 0, payload);
    }
  }

  #handle(opcode: number, fin: boolean, payload: Buffer): void {
    if (opcode === 0x8) {
      this.close();
      return;
    }
    if (opcode === 0x9) {
      this.#frame(0xa, payload);
      return;
    }
    if (opcode === 0xa) return;
    if (opcode === 0x1 || opcode === 0x2) {
      this.#fragments = [];
      this.#fragmentBinary = opcode === 0x2;
    }
    this.#fragments.push(payload);
    if (!fin) return;
    const message = Buffer.concat(this.#fragments);
    this.#fragments = [];
    for (const listener of this.#messageListeners) listener(message, this.#fragmentBinary);
  }
}
