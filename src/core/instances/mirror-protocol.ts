import { INSTANCE_FILES } from "../messaging/layout.ts";

/**
 * The instance-directory mirror's protocol (docs/architecture.md, "The
 * instance-directory mirror"): a remote worker has no directory shared with
 * the host, so `worker.cjs mirror` in its container watches /run/cspace and
 * streams its changes as NDJSON on stdout, and the host applies them to its
 * own `<run dir>/<instance>/`, where every reader of that directory already
 * looks. Pure: the frames, the names that may be mirrored, and the host's
 * check of each frame against what it holds. Shared with the worker bundle
 * (Node 18): no zod, no imports outside core.
 *
 * Everything the worker sends is hostile input: the host accepts only the
 * names below, appends only at the offset it holds, and keeps every file,
 * the number of files and their total under limits. The first refusal ends
 * the mirror (the host calls it lost, with the reason).
 */

export const MIRROR_PROTOCOL_VERSION = 1;

/** How each mirrored file changes: `append` only grows (and rotates by rename); `record` is replaced whole. */
export type MirrorKind = "events" | "log" | "record";

/** The most bytes the host holds of each kind of file: the host's UNTRUSTED_LIMITS, sent to the worker so it keeps to them. */
export interface MirrorLimits {
  readonly events: number;
  readonly log: number;
  readonly record: number;
}

/** Bounds on the stream itself. */
export const MIRROR_STREAM = {
  /** The most data bytes one append or put frame carries; a longer file goes as a put then appends. */
  chunkBytes: 256 * 1024,
  /** The longest line the host reads (a chunk in base64 plus its frame); longer is refused. */
  lineBytes: 2 * 1024 * 1024,
  /** Files the host holds for one instance at most (the fixed names and reports in the outbox). */
  maxFiles: 2048,
  /** Bytes the host holds for one instance at most, all files together. */
  maxTotalBytes: 128 * 1024 * 1024,
  /** Either end sends a heartbeat this often by default; three missed and the other end gives up. */
  beatMs: 5_000,
} as const;

/** Files at the top of the instance directory that the host reads, by kind; sockets (relayed elsewhere), launch.json and prompt.md (the host's own) are not mirrored. */
const TOP_FILES: Readonly<Record<string, MirrorKind>> = {
  [INSTANCE_FILES.events]: "events",
  [INSTANCE_FILES.eventsRotated]: "events",
  [INSTANCE_FILES.state]: "record",
  [INSTANCE_FILES.supervisorLock]: "record",
  [INSTANCE_FILES.supervisorLog]: "log",
};

/** The folders below the instance directory that hold mirrored files. */
export const MIRROR_DIRS = [INSTANCE_FILES.outbox, INSTANCE_FILES.delivered] as const;

/** A report's file name: `<id>.json`, ids being `<instance>-<time>-<random>`; never a dot-file (a writer's temporary). */
const REPORT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}\.json$/;

const MAX_PATH_LENGTH = 256;

export type PathCheck = { readonly ok: true; readonly kind: MirrorKind } | { readonly ok: false; readonly reason: string };

/**
 * Whether `path` (relative, `/`-separated) is a file the host mirrors, and
 * its kind; otherwise why not. Anything odd — absolute, `..`, `.`, empty
 * parts, a backslash, a NUL or control character, a name outside the list —
 * is refused.
 */
export function checkMirrorPath(path: unknown): PathCheck {
  if (typeof path !== "string") return { ok: false, reason: "the path is not a string" };
  if (path.length === 0 || path.length > MAX_PATH_LENGTH) return { ok: false, reason: `the path is empty or longer than ${String(MAX_PATH_LENGTH)} characters` };
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u001f\u007f\\]/.test(path)) return { ok: false, reason: `${JSON.stringify(path)} holds a NUL, a control character or a backslash` };
  if (path.startsWith("/")) return { ok: false, reason: `${JSON.stringify(path)} is absolute` };
  const parts = path.split("/");
  if (parts.some((part) => part === "" || part === "." || part === "..")) return { ok: false, reason: `${JSON.stringify(path)} has an empty, "." or ".." part` };
  const top = TOP_FILES[path];
  if (parts.length === 1 && top !== undefined) return { ok: true, kind: top };
  const name = parts.at(-1) ?? "";
  const folder = parts.slice(0, -1).join("/");
  if ((MIRROR_DIRS as readonly string[]).includes(folder) && REPORT_NAME.test(name)) return { ok: true, kind: "record" };
  return { ok: false, reason: `${JSON.stringify(path)} is not a file cspace mirrors` };
}

/** The kind of a path already checked, or null: the worker's test of what it sends. */
export function mirroredKind(path: string): MirrorKind | null {
  const check = checkMirrorPath(path);
  return check.ok ? check.kind : null;
}

export const isAppendKind = (kind: MirrorKind): boolean => kind !== "record";

// ---- Frames ----

/** Worker → host. Data is base64. */
export type WorkerFrame =
  | { readonly t: "hello"; readonly v: number }
  /** Bytes at `offset` of an append-only file: the offset must be the host's size of it. */
  | { readonly t: "append"; readonly path: string; readonly offset: number; readonly data: string }
  /** The file's whole content (or its first chunk, followed by appends), replacing what the host has. */
  | { readonly t: "put"; readonly path: string; readonly data: string }
  | { readonly t: "remove"; readonly path: string }
  /** A rename the worker saw (events.ndjson rotated to events.1.ndjson): the host renames its copy, so appends go on where they were. */
  | { readonly t: "move"; readonly from: string; readonly to: string }
  /** Everything the worker had when it read `sync <id>` was sent before this. */
  | { readonly t: "synced"; readonly id: number }
  | { readonly t: "beat" }
  /** Something the worker left out (a file beyond its limit, a link, a FIFO), for the operator. */
  | { readonly t: "note"; readonly text: string };

/** What the host holds of a file: its size and the sha256 (hex) of its content. */
export interface HeldFile {
  readonly size: number;
  readonly sha256: string;
}

/** Host → worker. The first line is `have`; then `sync` and `beat`. */
export type HostFrame =
  | { readonly t: "have"; readonly v: number; readonly limits: MirrorLimits; readonly files: Readonly<Record<string, HeldFile>> }
  | { readonly t: "sync"; readonly id: number }
  | { readonly t: "beat" };

export type Parsed<T> = { readonly ok: true; readonly frame: T } | { readonly ok: false; readonly reason: string };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const MAX_NOTE = 1000;

const refused = <T>(reason: string): Parsed<T> => ({ ok: false, reason });

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function hasOnly(value: Record<string, unknown>, keys: readonly string[]): boolean {
  return Object.keys(value).every((key) => keys.includes(key));
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isBase64(value: unknown): value is string {
  return typeof value === "string" && value.length % 4 === 0 && BASE64.test(value);
}

/** One line from the worker, checked for shape (not yet against what the host holds). */
export function parseWorkerFrame(line: string): Parsed<WorkerFrame> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return refused("a line that is not JSON");
  }
  if (!isRecord(value)) return refused("a line that is not a JSON object");
  const bad = (why: string): Parsed<WorkerFrame> => refused(`a ${JSON.stringify(String(value.t)).slice(0, 40)} frame ${why}`);
  switch (value.t) {
    case "hello":
      if (!hasOnly(value, ["t", "v"]) || !isCount(value.v)) return bad("without a version");
      return { ok: true, frame: { t: "hello", v: value.v } };
    case "append":
      if (!hasOnly(value, ["t", "path", "offset", "data"]) || typeof value.path !== "string" || !isCount(value.offset) || !isBase64(value.data)) return bad("that is not {path, offset, base64 data}");
      return { ok: true, frame: { t: "append", path: value.path, offset: value.offset, data: value.data } };
    case "put":
      if (!hasOnly(value, ["t", "path", "data"]) || typeof value.path !== "string" || !isBase64(value.data)) return bad("that is not {path, base64 data}");
      return { ok: true, frame: { t: "put", path: value.path, data: value.data } };
    case "remove":
      if (!hasOnly(value, ["t", "path"]) || typeof value.path !== "string") return bad("without a path");
      return { ok: true, frame: { t: "remove", path: value.path } };
    case "move":
      if (!hasOnly(value, ["t", "from", "to"]) || typeof value.from !== "string" || typeof value.to !== "string") return bad("that is not {from, to}");
      return { ok: true, frame: { t: "move", from: value.from, to: value.to } };
    case "synced":
      if (!hasOnly(value, ["t", "id"]) || !isCount(value.id)) return bad("without an id");
      return { ok: true, frame: { t: "synced", id: value.id } };
    case "beat":
      if (!hasOnly(value, ["t"])) return bad("with fields");
      return { ok: true, frame: { t: "beat" } };
    case "note":
      if (!hasOnly(value, ["t", "text"]) || typeof value.text !== "string" || value.text.length > MAX_NOTE) return bad(`that is not {text} of ${String(MAX_NOTE)} characters at most`);
      return { ok: true, frame: { t: "note", text: value.text } };
    default:
      return refused(`a frame of unknown type ${JSON.stringify(String(value.t)).slice(0, 40)}`);
  }
}

/** One line from the host (the worker trusts the host: the checks only catch a mismatched version). */
export function parseHostFrame(line: string): Parsed<HostFrame> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return refused("a line that is not JSON");
  }
  if (!isRecord(value)) return refused("a line that is not a JSON object");
  switch (value.t) {
    case "have": {
      if (value.v !== MIRROR_PROTOCOL_VERSION) return refused(`protocol version ${JSON.stringify(value.v)}, not ${String(MIRROR_PROTOCOL_VERSION)}`);
      const limits = value.limits;
      const files = value.files;
      if (!isRecord(limits) || !isCount(limits.events) || !isCount(limits.log) || !isCount(limits.record) || !isRecord(files)) return refused("a have frame without limits and files");
      const held: Record<string, HeldFile> = {};
      for (const [path, file] of Object.entries(files)) {
        if (!isRecord(file) || !isCount(file.size) || typeof file.sha256 !== "string") return refused(`a have frame with a bad entry for ${path}`);
        held[path] = { size: file.size, sha256: file.sha256 };
      }
      return { ok: true, frame: { t: "have", v: value.v, limits: { events: limits.events, log: limits.log, record: limits.record }, files: held } };
    }
    case "sync":
      return isCount(value.id) ? { ok: true, frame: { t: "sync", id: value.id } } : refused("a sync frame without an id");
    case "beat":
      return { ok: true, frame: { t: "beat" } };
    default:
      return refused(`a frame of unknown type ${JSON.stringify(String(value.t)).slice(0, 40)}`);
  }
}

/** The exact byte length base64 text decodes to. */
export function base64Length(data: string): number {
  const padding = data.endsWith("==") ? 2 : data.endsWith("=") ? 1 : 0;
  return (data.length / 4) * 3 - padding;
}

// ---- The host's ledger: what it holds, and whether a frame may change it ----

/** A change the host may make, checked: what the writer then does on disk. */
export type MirrorChange =
  | { readonly op: "append"; readonly path: string; readonly offset: number; readonly bytes: number }
  | { readonly op: "put"; readonly path: string; readonly bytes: number }
  | { readonly op: "remove"; readonly path: string }
  | { readonly op: "move"; readonly from: string; readonly to: string };

export type Checked = { readonly ok: true; readonly change: MirrorChange } | { readonly ok: false; readonly reason: string };

/**
 * The sizes of the files the host holds, as far as the mirror knows (it
 * starts from the host's directory, and every change it applies updates
 * it). `check` decides whether a frame may be applied; `apply` records a
 * change once it is on disk.
 */
export class MirrorLedger {
  readonly #limits: MirrorLimits;
  readonly #sizes = new Map<string, number>();
  #total = 0;

  constructor(limits: MirrorLimits, held: Readonly<Record<string, { readonly size: number }>>) {
    this.#limits = limits;
    for (const [path, file] of Object.entries(held)) {
      this.#sizes.set(path, file.size);
      this.#total += file.size;
    }
  }

  sizeOf(path: string): number | undefined {
    return this.#sizes.get(path);
  }

  get files(): number {
    return this.#sizes.size;
  }

  get totalBytes(): number {
    return this.#total;
  }

  check(frame: Extract<WorkerFrame, { t: "append" | "put" | "remove" | "move" }>): Checked {
    switch (frame.t) {
      case "append": {
        const path = checkMirrorPath(frame.path);
        if (!path.ok) return path;
        if (!isAppendKind(path.kind)) return { ok: false, reason: `${frame.path} is replaced whole, never appended to` };
        const bytes = base64Length(frame.data);
        if (bytes > MIRROR_STREAM.chunkBytes) return { ok: false, reason: `an append of ${String(bytes)} bytes to ${frame.path} is more than the ${String(MIRROR_STREAM.chunkBytes)} a frame may carry` };
        const held = this.#sizes.get(frame.path);
        if (held === undefined) return { ok: false, reason: `an append to ${frame.path}, which the host does not hold (a file starts with a put)` };
        if (held !== frame.offset) return { ok: false, reason: `an append to ${frame.path} at offset ${String(frame.offset)}, but the host holds ${String(held)} bytes of it` };
        const growth = this.#growth(frame.path, frame.offset + bytes, path.kind);
        return growth ?? { ok: true, change: { op: "append", path: frame.path, offset: frame.offset, bytes } };
      }
      case "put": {
        const path = checkMirrorPath(frame.path);
        if (!path.ok) return path;
        const bytes = base64Length(frame.data);
        if (bytes > MIRROR_STREAM.chunkBytes && path.kind !== "record") return { ok: false, reason: `a put of ${String(bytes)} bytes to ${frame.path} is more than the ${String(MIRROR_STREAM.chunkBytes)} a frame may carry` };
        const growth = this.#growth(frame.path, bytes, path.kind);
        return growth ?? { ok: true, change: { op: "put", path: frame.path, bytes } };
      }
      case "remove": {
        const path = checkMirrorPath(frame.path);
        return path.ok ? { ok: true, change: { op: "remove", path: frame.path } } : path;
      }
      case "move": {
        const from = checkMirrorPath(frame.from);
        if (!from.ok) return from;
        const to = checkMirrorPath(frame.to);
        if (!to.ok) return to;
        if (from.kind !== to.kind || !isAppendKind(from.kind)) return { ok: false, reason: `a move from ${frame.from} to ${frame.to}: only an append-only file moves, to a name of its own kind` };
        if (frame.from === frame.to) return { ok: false, reason: `a move of ${frame.from} onto itself` };
        if (!this.#sizes.has(frame.from)) return { ok: false, reason: `a move of ${frame.from}, which the host does not hold` };
        return { ok: true, change: { op: "move", from: frame.from, to: frame.to } };
      }
    }
  }

  /** Records a change made on disk. */
  apply(change: MirrorChange): void {
    switch (change.op) {
      case "append":
        this.#set(change.path, change.offset + change.bytes);
        break;
      case "put":
        this.#set(change.path, change.bytes);
        break;
      case "remove":
        this.#drop(change.path);
        break;
      case "move": {
        const size = this.#sizes.get(change.from) ?? 0;
        this.#drop(change.from);
        this.#set(change.to, size);
        break;
      }
    }
  }

  /** Null when `path` may become `size` bytes; otherwise why not. */
  #growth(path: string, size: number, kind: MirrorKind): Checked | null {
    const limit = this.#limits[kind];
    if (size > limit) return { ok: false, reason: `${path} would be ${String(size)} bytes, more than the ${String(limit)} the host keeps of it` };
    const held = this.#sizes.get(path);
    if (held === undefined && this.#sizes.size >= MIRROR_STREAM.maxFiles) return { ok: false, reason: `${path} would be file ${String(this.#sizes.size + 1)}, more than the ${String(MIRROR_STREAM.maxFiles)} the host keeps of an instance` };
    const total = this.#total - (held ?? 0) + size;
    if (total > MIRROR_STREAM.maxTotalBytes) return { ok: false, reason: `${path} would bring the instance to ${String(total)} bytes, more than the ${String(MIRROR_STREAM.maxTotalBytes)} the host keeps` };
    return null;
  }

  #set(path: string, size: number): void {
    this.#total += size - (this.#sizes.get(path) ?? 0);
    this.#sizes.set(path, size);
  }

  #drop(path: string): void {
    this.#total -= this.#sizes.get(path) ?? 0;
    this.#sizes.delete(path);
  }
}
