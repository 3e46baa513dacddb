/**
 * The message relay's frames (docs/protocol.md, "The message relay"): one
 * JSON object per line on the stdin and stdout of `worker.cjs relay`, an exec
 * the host keeps open into a remote worker. Pure: encoding, decoding and the
 * checks a frame from the worker side must pass (it is hostile input).
 *
 * Frames that carry a channel's bytes (`open`, `data`, `end`) have a
 * sequence number `s` per direction and are resent until acknowledged; `ack`
 * (cumulative, also the heartbeat) and `hello` are not sequenced.
 */

export const RELAY_PROTOCOL_VERSION = 1;

/** Bytes of a channel's data carried by one `data` frame (before base64). */
export const MAX_DATA_CHUNK_BYTES = 48 * 1024;
/** The longest frame line either side takes: a full data chunk in base64 with room for the envelope. */
export const MAX_FRAME_BYTES = 72 * 1024;
/** Channels open at once on one relay, both directions together. */
export const MAX_RELAY_CHANNELS = 64;
/** Bytes sent and not yet acknowledged, per direction: past it a side stops reading its sockets until acks come. */
export const MAX_UNACKED_BYTES = 4 * 1024 * 1024;
/** Either side says it is alive this often (an `ack`), and gives up on the other after MISSED_HEARTBEATS silent periods. */
export const HEARTBEAT_MS = 5000;
export const MISSED_HEARTBEATS = 3;

/**
 * Who opens a channel fixes its id's parity, so ids never collide and a side
 * can tell a forged id: the host opens even ids (a connection to the
 * worker's w.sock), the relay odd ones (a connection that arrived on c.sock).
 */
export type Opener = "host" | "relay";
export const openerOf = (channel: number): Opener => (channel % 2 === 0 ? "host" : "relay");

export interface HelloFrame {
  readonly t: "hello";
  readonly v: number;
  /** The relay process's session (a new process is a new session); the host's hello names the one it answers. */
  readonly session: string;
  /** The last sequence number this side received in order from the other in this session (0: none). */
  readonly recv: number;
}

export interface AckFrame {
  readonly t: "ack";
  /** Every frame up to and including this sequence number arrived. */
  readonly a: number;
}

export type ChannelBody =
  | { readonly t: "open"; readonly ch: number }
  | { readonly t: "data"; readonly ch: number; readonly d: string }
  | { readonly t: "end"; readonly ch: number };

export type SequencedFrame = ChannelBody & { readonly s: number };

export type RelayFrame = HelloFrame | AckFrame | SequencedFrame;

export function encodeFrame(frame: RelayFrame): string {
  return `${JSON.stringify(frame)}\n`;
}

export type Decoded = { readonly ok: true; readonly frame: RelayFrame } | { readonly ok: false; readonly reason: string };

const SESSION = /^[A-Za-z0-9-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * One line as a frame, or why it is not one. Strict: the exact fields of its
 * kind and nothing else, so a frame cannot smuggle a target (a path, a host)
 * the other side might be tempted to use.
 */
export function decodeFrame(line: string): Decoded {
  // Characters never outnumber UTF-8 bytes; the transport has already bounded the line's bytes.
  if (line.length > MAX_FRAME_BYTES) return bad(`a frame is longer than ${String(MAX_FRAME_BYTES)} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return bad(`a frame is not JSON: ${JSON.stringify(line.slice(0, 80))}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return bad("a frame is not a JSON object");
  const record = value as Record<string, unknown>;
  const kind = record.t;
  switch (kind) {
    case "hello": {
      const shape = fields(record, ["t", "v", "session", "recv"]);
      if (shape !== null) return bad(shape);
      if (record.v !== RELAY_PROTOCOL_VERSION) return bad(`a hello speaks relay protocol ${JSON.stringify(record.v)}, not ${String(RELAY_PROTOCOL_VERSION)}`);
      if (typeof record.session !== "string" || !SESSION.test(record.session)) return bad("a hello's session is not 1-64 letters, digits or dashes");
      if (!isCount(record.recv)) return bad("a hello's recv is not a sequence number");
      return { ok: true, frame: { t: "hello", v: RELAY_PROTOCOL_VERSION, session: record.session, recv: record.recv } };
    }
    case "ack": {
      const shape = fields(record, ["t", "a"]);
      if (shape !== null) return bad(shape);
      if (!isCount(record.a)) return bad("an ack's a is not a sequence number");
      return { ok: true, frame: { t: "ack", a: record.a } };
    }
    case "open":
    case "end": {
      const shape = fields(record, ["t", "s", "ch"]);
      if (shape !== null) return bad(shape);
      if (!isSeq(record.s) || !isCount(record.ch)) return bad(`an ${kind} frame's s or ch is not a positive integer`);
      return { ok: true, frame: { t: kind, s: record.s, ch: record.ch } };
    }
    case "data": {
      const shape = fields(record, ["t", "s", "ch", "d"]);
      if (shape !== null) return bad(shape);
      if (!isSeq(record.s) || !isCount(record.ch)) return bad("a data frame's s or ch is not a positive integer");
      if (typeof record.d !== "string" || record.d.length === 0 || record.d.length % 4 !== 0 || !BASE64.test(record.d)) return bad("a data frame's d is not non-empty base64");
      if ((record.d.length / 4) * 3 > MAX_DATA_CHUNK_BYTES + 2) return bad(`a data frame carries more than ${String(MAX_DATA_CHUNK_BYTES)} bytes`);
      return { ok: true, frame: { t: "data", s: record.s, ch: record.ch, d: record.d } };
    }
    default:
      return bad(`a frame of unknown kind ${typeof kind === "string" ? JSON.stringify(kind.slice(0, 40)) : typeof kind}`);
  }
}

function bad(reason: string): Decoded {
  return { ok: false, reason };
}

function fields(record: Record<string, unknown>, expected: readonly string[]): string | null {
  const extra = Object.keys(record).filter((key) => !expected.includes(key));
  if (extra.length > 0) return `a ${String(record.t)} frame has fields it must not have: ${extra.slice(0, 5).join(", ").slice(0, 120)}`;
  const missing = expected.filter((key) => !(key in record));
  if (missing.length > 0) return `a ${String(record.t)} frame lacks ${missing.join(", ")}`;
  return null;
}

const isCount = (value: unknown): value is number => typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
const isSeq = (value: unknown): value is number => isCount(value) && value > 0;

/** The bytes a frame holds against MAX_UNACKED_BYTES: its line. */
export function frameBytes(frame: SequencedFrame): number {
  return frame.t === "data" ? frame.d.length + 40 : 32;
}
