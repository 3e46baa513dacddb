import type { Json, NewEvent, StoredEvent } from "../coordinator-store/port.ts";
import { InternalError } from "../errors.ts";
import { describeIssues } from "../messaging/worker-messages.ts";
import type { JsonObject } from "./event-registry.ts";
import { eventEntry, type CoordinatorEvent } from "./events.ts";

/**
 * Between the coordinator's events and the event store's generic rows
 * (`{ type, at, data }`, data as JSON): the runtime appends `encodeEvent`
 * and folds `decodeEvent`, so a replayed log is the log that was written.
 * Both sides go through the event's registry entry (events.ts): what is
 * written fits its schema, and what is read is checked against it after the
 * entry's upcasters brought an older version's data to the current shape.
 */

/** The key in the stored data that holds the entry's version when the event was written; absent means 1. */
export const VERSION_KEY = "v";

/**
 * An event that cannot be written or read: an unknown type, data that does
 * not fit its schema, or a value JSON cannot keep. Internal when writing
 * (cspace built a bad event); when reading, the log replay reports it with
 * its sequence number instead (log.ts).
 */
export class EventCodecError extends InternalError {
  readonly type: string;
  readonly reason: string;

  constructor(type: string, reason: string) {
    super(`${type}: ${reason}`);
    this.type = type;
    this.reason = reason;
  }
}

/** The store's row for an event: its data is everything but `type` and `at`, plus its version. Throws EventCodecError for an event that does not fit its schema. */
export function encodeEvent(event: CoordinatorEvent): NewEvent {
  const { type, at, ...fields } = event;
  const entry = eventEntry(type);
  if (entry === undefined) throw new EventCodecError(type, "no such event type");
  const checked = entry.fields.safeParse(fields);
  if (!checked.success) throw new EventCodecError(type, describeIssues(checked.error, type));
  const data = toJson(checked.data, type);
  return { type, at: new Date(at), data: { ...(data as JsonObject), [VERSION_KEY]: entry.version } };
}

/** The event a stored row holds: upcast to the current version, then checked. Throws EventCodecError. */
export function decodeEvent(row: Pick<StoredEvent, "type" | "at" | "data">): CoordinatorEvent {
  const entry = eventEntry(row.type);
  if (entry === undefined) throw new EventCodecError(row.type, "this cspace does not know the type (a newer cspace wrote it?)");
  const data = row.data;
  if (data === null || typeof data !== "object" || Array.isArray(data)) throw new EventCodecError(row.type, "its data is not an object");
  const { [VERSION_KEY]: stored, ...fields } = data as JsonObject;
  const version = stored ?? 1;
  if (typeof version !== "number" || !Number.isInteger(version) || version < 1) throw new EventCodecError(row.type, `version ${JSON.stringify(version)} is not a version`);
  if (version > entry.version) throw new EventCodecError(row.type, `version ${String(version)} is newer than this cspace's ${String(entry.version)}: upgrade to read it`);
  let current: JsonObject = fields;
  for (let from = version; from < entry.version; from++) {
    const upcast = entry.upcast[from];
    if (upcast === undefined) throw new EventCodecError(row.type, `no upcaster from version ${String(from)}`);
    current = upcast(current);
  }
  const checked = entry.fields.safeParse(current);
  if (!checked.success) throw new EventCodecError(row.type, describeIssues(checked.error, row.type));
  // The entry for row.type validated the fields: this is that type's event.
  return { ...checked.data, type: row.type, at: row.at } as CoordinatorEvent;
}

/** The value as JSON, or an EventCodecError naming what would not survive the round trip. Absent fields are dropped, as JSON drops them. */
function toJson(value: unknown, where: string): Json {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (Number.isFinite(value)) return value;
    throw new EventCodecError(where, `holds ${String(value)}, which JSON cannot keep`);
  }
  if (Array.isArray(value)) return value.map((item: unknown, i) => toJson(item, `${where}[${String(i)}]`));
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, Json> = {};
    for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = toJson(item, `${where}.${key}`);
    return out;
  }
  throw new EventCodecError(where, `holds a ${typeof value} that is not plain JSON`);
}
