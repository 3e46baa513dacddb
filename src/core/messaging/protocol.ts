/**
 * The wire protocol between cspace processes over Unix sockets, version 1:
 * one JSON object per line (newline-delimited JSON), every request carries an
 * id and gets exactly one reply with that id. docs/protocol.md is the
 * contract; this module is its only implementation, shared by the host CLI,
 * the coordinator and the in-container supervisor (bundled for Node 18, so it
 * uses nothing newer and imports nothing).
 */

export const PROTOCOL_VERSION = 1;

/** A longer line is refused with `too-large` and the connection is closed (its rest cannot be framed). */
export const MAX_LINE_BYTES = 1024 * 1024;

/**
 * The bound on a line of a worker's `c.sock`: a report (its summary bounded by
 * the supervisor, MAX_REPORT_SUMMARY_CHARS) and a message fit with room to
 * spare; a worker has no use for the 1 MiB that the host's own sockets allow.
 */
export const COORDINATOR_MAX_LINE_BYTES = 128 * 1024;

/** A worker's `cspace send _coordinator` text, at most (UTF-8 bytes): it is recorded in the run's log and shown to people. */
export const MAX_WORKER_MESSAGE_BYTES = 8 * 1024;

/**
 * A report's summary as the supervisor writes it, at most (characters; the rest is cut with a note); its
 * blocked reason a quarter of that. Even at 6 bytes a character (JSON's \uXXXX) both fit a c.sock line.
 */
export const MAX_REPORT_SUMMARY_CHARS = 8 * 1024;

/** `text` cut to `maxChars` with a note of how much was left out, so a bounded field still says it was bounded. */
export function cutTo(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const left = text.length - maxChars;
  return `${text.slice(0, maxChars)}… (${String(left)} more characters cut)`;
}

/** A client that connects and says nothing for this long is disconnected. */
export const IDLE_TIMEOUT_MS = 30_000;

/** Commands a worker's supervisor answers (its socket `w.sock`). */
export type WorkerCommand = "send" | "status" | "interrupt" | "shutdown";

/** Commands a coordinator answers on each worker's own coordinator socket (`c.sock`). */
export type CoordinatorCommand = "report" | "send" | "status";

export type Command = WorkerCommand | CoordinatorCommand;

export const WORKER_COMMANDS: readonly WorkerCommand[] = ["send", "status", "interrupt", "shutdown"];
export const COORDINATOR_COMMANDS: readonly CoordinatorCommand[] = ["report", "send", "status"];

export interface Request {
  readonly v: 1;
  readonly id: string;
  readonly cmd: Command;
  /** Who speaks, as they say; servers that know better (identity by channel) ignore it. */
  readonly from?: string | undefined;
  /** `send`: the message. `shutdown`: "restart" when a new supervisor will carry on the same attempt (`cspace restart`). */
  readonly text?: string | undefined;
  /** `report`: what the worker reports. */
  readonly report?: unknown;
}

export type ErrorCode =
  | "bad-json"
  | "too-large"
  | "unsupported-version"
  | "unknown-command"
  | "bad-request"
  | "timeout"
  | "not-running"
  | "rate-limited"
  | "internal";

export interface ErrorReply {
  readonly v: 1;
  /** The request's id, or null when the request could not be read far enough to have one. */
  readonly id: string | null;
  readonly ok: false;
  readonly error: { readonly code: ErrorCode; readonly message: string };
}

export interface OkReply {
  readonly v: 1;
  readonly id: string;
  readonly ok: true;
  readonly [field: string]: unknown;
}

export type Reply = OkReply | ErrorReply;

export type Parsed = { readonly ok: true; readonly request: Request } | { readonly ok: false; readonly reply: ErrorReply };

/** Reads one line (without its newline) as a request for a server that answers `accepted` commands. */
export function parseRequest(line: string, accepted: readonly Command[]): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return refuse(null, "bad-json", "the line is not JSON: send one JSON object per line");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return refuse(null, "bad-request", "expected a JSON object with v, id and cmd");
  }
  const fields = value as Record<string, unknown>;
  const id = typeof fields.id === "string" && fields.id !== "" && fields.id.length <= 200 ? fields.id : null;
  if (fields.v !== PROTOCOL_VERSION) {
    return refuse(id, "unsupported-version", `protocol version ${JSON.stringify(fields.v ?? null)} is not supported; this side speaks v${String(PROTOCOL_VERSION)}`);
  }
  if (id === null) return refuse(null, "bad-request", "id must be a non-empty string of at most 200 characters");
  const cmd = fields.cmd;
  if (typeof cmd !== "string" || !(accepted as readonly string[]).includes(cmd)) {
    return refuse(id, "unknown-command", `unknown command ${JSON.stringify(cmd ?? null)}; this socket answers ${accepted.join(", ")}`);
  }
  if (fields.from !== undefined && typeof fields.from !== "string") return refuse(id, "bad-request", "from must be a string");
  if (cmd === "send" && (typeof fields.text !== "string" || fields.text.trim() === "")) {
    return refuse(id, "bad-request", "send needs a non-empty text");
  }
  if (cmd === "report" && (typeof fields.report !== "object" || fields.report === null)) {
    return refuse(id, "bad-request", "report needs a report object");
  }
  return {
    ok: true,
    request: {
      v: 1,
      id,
      cmd: cmd as Command,
      from: fields.from,
      text: typeof fields.text === "string" ? fields.text : undefined,
      report: fields.report,
    },
  };
}

export function okReply(id: string, fields: Readonly<Record<string, unknown>> = {}): OkReply {
  return { ...fields, v: 1, id, ok: true };
}

export function errorReply(id: string | null, code: ErrorCode, message: string): ErrorReply {
  return { v: 1, id, ok: false, error: { code, message } };
}

/** One line on the wire. */
export function frame(message: Request | Reply): string {
  return `${JSON.stringify(message)}\n`;
}

/** Reads a reply line; null when it is not one (a peer that does not speak the protocol). */
export function parseReply(line: string): Reply | null {
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value !== "object" || value === null) return null;
    const fields = value as Record<string, unknown>;
    if (fields.v !== PROTOCOL_VERSION || typeof fields.ok !== "boolean") return null;
    if (fields.ok) return typeof fields.id === "string" ? (value as OkReply) : null;
    const error = fields.error as { code?: unknown; message?: unknown } | undefined;
    if (typeof error?.code !== "string" || typeof error.message !== "string") return null;
    return value as ErrorReply;
  } catch {
    return null;
  }
}

function refuse(id: string | null, code: ErrorCode, message: string): Parsed {
  return { ok: false, reply: errorReply(id, code, message) };
}
