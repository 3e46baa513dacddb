import { chmod, lstat, unlink } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { IDLE_TIMEOUT_MS, MAX_LINE_BYTES, errorReply, frame, parseRequest, type Command, type Reply, type Request } from "../../core/messaging/protocol.ts";
import { TokenBucket, type RateLimit } from "../../core/messaging/rate-limit.ts";
import { ListenError } from "./errors.ts";
import { LineSplitter } from "./lines.ts";
import { assertPrivateFolder, messageOf, removeStaleSocket } from "./socket-file.ts";

/**
 * A Unix-socket server speaking protocol v1 (docs/protocol.md): every request
 * line gets exactly one reply, whatever the handler does; a line that is not
 * a request gets an error reply and the connection goes on; an overlong line
 * gets `too-large` and the connection is closed, since the rest of it cannot
 * be framed. Handlers are called in the order requests arrive on each
 * connection (so a client's `send`s keep their order); replies go out as
 * each is ready, matched by id.
 */

/** Answers one request. Throwing (or rejecting) becomes an `internal` reply. */
export type RequestHandler = (request: Request) => Reply | Promise<Reply>;

export interface ServeOptions {
  /** The commands this socket answers; others get `unknown-command`. */
  readonly accepted: readonly Command[];
  /** A connection with no request in flight is closed after this long without a byte from the client. */
  readonly idleTimeoutMs?: number;
  /** The socket file's permission bits; 0600 unless a group must connect too. */
  readonly socketMode?: number;
  readonly maxLineBytes?: number;
  /** A `send` whose text is longer (UTF-8 bytes) gets `too-large`; the connection goes on (the line itself was framed). */
  readonly maxSendTextBytes?: number;
  /**
   * One bucket for every connection of this socket (one socket per worker): a line past it gets
   * `rate-limited` and never reaches the handler. `onRateLimited` hears each refusal.
   */
  readonly rateLimit?: RateLimit;
  readonly onRateLimited?: (refusal: { readonly firstOfBurst: boolean; readonly refused: number }) => void;
  readonly maxConnections?: number;
  /** Diagnostics the server cannot reply with (a socket error, a reply that could not be written). */
  readonly onDiagnostic?: (message: string) => void;
}

export interface NdjsonServer {
  readonly socketPath: string;
  /** Connections open now. */
  connectionCount(): number;
  /**
   * Stops accepting, ends open connections (replies already written still
   * reach their clients; connections that do not close within a moment are
   * dropped), and removes the socket file if it is still ours.
   */
  close(): Promise<void>;
}

/** How long close() lets open connections finish before dropping them. */
const CLOSE_GRACE_MS = 500;

export async function serveNdjson(socketPath: string, handler: RequestHandler, options: ServeOptions): Promise<NdjsonServer> {
  await assertPrivateFolder(socketPath);
  await removeStaleSocket(socketPath);
  const sockets = new Set<Socket>();
  const bucket = options.rateLimit === undefined ? null : new TokenBucket(options.rateLimit, Date.now());
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    serveConnection(socket, handler, options, bucket);
  });
  server.maxConnections = options.maxConnections ?? 1024;
  const mode = options.socketMode ?? 0o600;
  const umaskApplied = await listen(server, socketPath, mode);
  // The socket may sit in a folder a container can write (an instance's c.sock), so the path is never followed
  // once bound: a worker could have swapped it for a link to a host file, which chmod would follow as root.
  // The umask covered the bind; only where it could not be set is the mode stated afterwards, and then only on
  // a socket (still a narrow race there, which is why the umask path is the one cspace's processes take).
  const bound = await lstat(socketPath);
  if (!umaskApplied && bound.isSocket() && (bound.mode & 0o777) !== mode) await chmod(socketPath, mode);
  const inode = bound.ino;
  let closed: Promise<void> | null = null;
  return {
    socketPath,
    connectionCount: () => sockets.size,
    close() {
      closed ??= (async () => {
        const done = new Promise<void>((resolve) => server.close(() => { resolve(); }));
        for (const socket of sockets) socket.end();
        const grace = setTimeout(() => {
          for (const socket of sockets) socket.destroy();
        }, CLOSE_GRACE_MS);
        await done;
        clearTimeout(grace);
        // Another server may have taken the path since (after proving we were gone): leave its socket alone.
        const now = await lstat(socketPath).catch(() => null);
        if (now?.ino === inode) await unlink(socketPath).catch(() => undefined);
      })();
      return closed;
    },
  };
}

/** Listens with the umask set for `mode`; resolves whether the umask could be set (it cannot in worker threads). */
function listen(server: Server, socketPath: string, mode: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(new ListenError(socketPath, error.code === "EADDRINUSE" ? `another process took ${socketPath} while cspace was starting to listen on it` : `cannot listen on ${socketPath}: ${error.message}`, { cause: error }));
    };
    server.once("error", onError);
    // bind() happens synchronously inside listen(), so the umask only covers this socket's creation.
    const previous = setUmask(0o777 & ~mode);
    try {
      server.listen(socketPath, () => {
        server.off("error", onError);
        resolve(previous !== null);
      });
    } finally {
      if (previous !== null) setUmask(previous);
    }
  });
}

/** process.umask cannot be set in worker threads; a checked chmod after listen covers that case. */
function setUmask(mask: number): number | null {
  try {
    return process.umask(mask);
  } catch {
    return null;
  }
}

function serveConnection(socket: Socket, handler: RequestHandler, options: ServeOptions, bucket: TokenBucket | null): void {
  const maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  const idleTimeoutMs = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  let pending = 0;
  let finishing = false;
  let clientEnded = false;

  const write = (reply: Reply): void => {
    if (socket.writable) socket.write(frame(reply));
  };
  const finishIfDone = (): void => {
    if (pending === 0 && (finishing || clientEnded) && !socket.destroyed) socket.end();
  };

  const splitter = new LineSplitter(maxLineBytes, {
    line(text) {
      if (finishing || text.trim() === "") return;
      const parsed = parseRequest(text, options.accepted);
      const id = parsed.ok ? parsed.request.id : null;
      // Before anything else: a flood costs a parse and a short reply each, never a handler call.
      const admitted = bucket?.take(Date.now()) ?? { ok: true };
      if (!admitted.ok) {
        options.onRateLimited?.(admitted);
        write(errorReply(id, "rate-limited", "too many requests on this socket: wait a few seconds and send again"));
        return;
      }
      if (!parsed.ok) {
        write(parsed.reply);
        return;
      }
      const maxText = options.maxSendTextBytes;
      const message = parsed.request.text;
      if (maxText !== undefined && parsed.request.cmd === "send" && message !== undefined && Buffer.byteLength(message, "utf8") > maxText) {
        write(errorReply(parsed.request.id, "too-large", `a message may be at most ${String(maxText)} bytes; this one is ${String(Buffer.byteLength(message, "utf8"))}: shorten it, or point to a file in the workspace`));
        return;
      }
      answer(parsed.request);
    },
    overflow() {
      if (finishing) return;
      write(errorReply(null, "too-large", `a line is longer than ${String(maxLineBytes)} bytes; closing the connection`));
      finishing = true;
      finishIfDone();
    },
  });

  const answer = (request: Request): void => {
    pending += 1;
    let result: Reply | Promise<Reply>;
    try {
      // Called synchronously, in arrival order: handlers that queue (send) keep the client's order.
      result = handler(request);
    } catch (error) {
      result = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    Promise.resolve(result)
      .then(
        (reply) => (reply.id === request.id ? reply : errorReply(request.id, "internal", "the server answered with another request's id")),
        (error: unknown) => errorReply(request.id, "internal", messageOf(error)),
      )
      .then((reply) => {
        pending -= 1;
        write(reply);
        finishIfDone();
      }, (error: unknown) => options.onDiagnostic?.(`reply to ${request.id} failed: ${messageOf(error)}`));
  };

  socket.setTimeout(idleTimeoutMs);
  socket.on("timeout", () => {
    // A client that keeps a closing connection open is dropped outright.
    if (finishing) {
      socket.destroy();
      return;
    }
    // A request in flight (an interrupt waiting for the agent to stop) is not idleness.
    if (pending > 0) return;
    write(errorReply(null, "timeout", `no request for ${String(idleTimeoutMs)} ms; closing the connection`));
    finishing = true;
    socket.end();
  });
  socket.on("data", (chunk: Buffer) => {
    if (!finishing) splitter.push(chunk);
  });
  socket.on("end", () => {
    if (!finishing) splitter.end();
    clientEnded = true;
    finishIfDone();
  });
  socket.on("error", (error) => {
    options.onDiagnostic?.(`connection error: ${error.message}`);
    socket.destroy();
  });
}
