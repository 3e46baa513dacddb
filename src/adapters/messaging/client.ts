import { randomBytes } from "node:crypto";
import { lstatSync } from "node:fs";
import { createConnection } from "node:net";
import { frame, parseReply, type Reply, type Request } from "../../core/messaging/protocol.ts";
import { BadReplyError, ConnectionClosedError, MessagingError, NobodyListeningError, RequestTimeoutError } from "./errors.ts";
import { LineSplitter } from "./lines.ts";

/**
 * The client side of protocol v1: one connection, one request, its reply.
 * Imports only the protocol and node built-ins so `cspace send` starts fast.
 */

export interface RequestOptions {
  /** From connecting to the reply; 5 s unless given. */
  readonly timeoutMs?: number;
  /** The longest reply line taken (bytes); a longer one ends the request with BadReplyError. 16 MiB unless given. */
  readonly maxReplyBytes?: number;
}

/** Replies can carry a status or a report; allow them more room than a request line. */
const MAX_REPLY_BYTES = 16 * 1024 * 1024;

/** A fresh request id: unique enough to match a reply on one connection and to tell requests apart in logs. */
export function newRequestId(): string {
  return `${Date.now().toString(36)}-${randomBytes(6).toString("hex")}`;
}

/**
 * Sends `message` on `socketPath` and resolves with the reply that carries
 * its id (an error reply too: `ok: false` is an answer). Throws
 * NobodyListeningError when no one listens, RequestTimeoutError when no reply
 * comes in time, ConnectionClosedError when the peer hangs up without one,
 * BadReplyError when it answers with something that is not this request's
 * reply (one request per connection: any other id is a broken peer). The
 * peer may be hostile: at most maxReplyBytes are buffered, and the timeout
 * holds however it drips.
 */
export function request(socketPath: string, message: Request, options: RequestOptions = {}): Promise<Reply> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxReplyBytes = options.maxReplyBytes ?? MAX_REPLY_BYTES;
  const planted = notASocket(socketPath);
  if (planted !== null) return Promise.reject(planted);
  return new Promise<Reply>((resolve, reject) => {
    let settled = false;
    const socket = createConnection(socketPath);
    const settle = (outcome: { reply: Reply } | { error: MessagingError }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if ("reply" in outcome) resolve(outcome.reply);
      else reject(outcome.error);
    };
    const timer = setTimeout(() => {
      settle({ error: new RequestTimeoutError(socketPath, `no reply on ${socketPath} within ${String(timeoutMs)} ms`) });
    }, timeoutMs);
    const splitter = new LineSplitter(maxReplyBytes, {
      line(text) {
        if (text.trim() === "") return;
        const reply = parseReply(text);
        if (reply === null) {
          settle({ error: new BadReplyError(socketPath, `the peer on ${socketPath} does not speak cspace protocol v1 (it sent ${JSON.stringify(text.slice(0, 80))})`) });
        } else if (reply.id === message.id || (reply.id === null && !reply.ok)) {
          // An error with no id is the server refusing the whole line (too large, idle): it is this request's answer.
          settle({ reply });
        } else {
          settle({ error: new BadReplyError(socketPath, `the peer on ${socketPath} answered another request (id ${JSON.stringify(String(reply.id).slice(0, 80))}, not ${message.id})`) });
        }
      },
      overflow() {
        settle({ error: new BadReplyError(socketPath, `a reply on ${socketPath} is longer than ${String(maxReplyBytes)} bytes`) });
      },
    });
    socket.on("connect", () => {
      socket.write(frame(message));
    });
    socket.on("data", (chunk: Buffer) => {
      splitter.push(chunk);
    });
    socket.on("end", () => {
      splitter.end();
      settle({ error: new ConnectionClosedError(socketPath, `the peer on ${socketPath} closed the connection without replying`) });
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      settle({ error: connectError(socketPath, error) });
    });
  });
}

/**
 * An instance's sockets sit in a folder its container can write: a worker could put a link there, pointing the
 * host's messages at another worker's socket or any socket on the host. Only a socket itself is dialled; anything
 * else counts as nobody listening (what a worker that sabotages its own socket gets).
 */
function notASocket(socketPath: string): MessagingError | null {
  const stats = lstatSync(socketPath, { throwIfNoEntry: false });
  if (stats === undefined || stats.isSocket()) return null;
  const what = stats.isSymbolicLink() ? "a link" : "not a socket";
  return new NobodyListeningError(socketPath, `nobody is listening on ${socketPath}: it is ${what}, which cspace does not dial`);
}

function connectError(socketPath: string, error: NodeJS.ErrnoException): MessagingError {
  if (error.code === "ENOENT" || error.code === "ECONNREFUSED") {
    return new NobodyListeningError(socketPath, `nobody is listening on ${socketPath}`, { cause: error });
  }
  if (error.code === "EACCES" || error.code === "EPERM") {
    return new MessagingError(socketPath, `permission denied on ${socketPath}: it belongs to another user`, { cause: error });
  }
  if (error.code === "EPIPE" || error.code === "ECONNRESET") {
    return new ConnectionClosedError(socketPath, `the peer on ${socketPath} closed the connection without replying`, { cause: error });
  }
  return new MessagingError(socketPath, `cannot talk to ${socketPath}: ${error.message}`, { cause: error });
}
