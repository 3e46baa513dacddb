import { ExternalError } from "../../core/errors.ts";

/**
 * Socket failures, typed so callers branch on the class, never on message
 * text. All are external errors (exit 3 through the CLI's one mapping).
 */
export class MessagingError extends ExternalError {
  override readonly name: string = "MessagingError";
  readonly socketPath: string;

  constructor(socketPath: string, message: string, details: { hint?: string; cause?: unknown } = {}) {
    super(message, details);
    this.socketPath = socketPath;
  }
}

/** No socket file (ENOENT) or nothing accepts on it (ECONNREFUSED): the peer is not running. */
export class NobodyListeningError extends MessagingError {
  override readonly name: string = "NobodyListeningError";
}

/** No reply within the time allowed. */
export class RequestTimeoutError extends MessagingError {
  override readonly name: string = "RequestTimeoutError";
}

/** The peer closed the connection before answering. */
export class ConnectionClosedError extends MessagingError {
  override readonly name: string = "ConnectionClosedError";
}

/**
 * The peer answered, but not as the protocol says: a line past the bound, one
 * that is not a v1 reply, a reply to another request, or (checked by the
 * caller, who knows the command) a reply of the wrong shape. On a worker's
 * w.sock that is a hostile or broken container, never the host's fault.
 */
export class BadReplyError extends MessagingError {
  override readonly name: string = "BadReplyError";
}

/** A server could not listen: someone else answers on the socket, or its folder is not private. */
export class ListenError extends MessagingError {
  override readonly name: string = "ListenError";
}
