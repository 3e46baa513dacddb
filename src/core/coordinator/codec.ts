import type { Json, NewEvent, StoredEvent } from "../coordinator-store/port.ts";
import { InternalError, UserError } from "../errors.ts";
import type { CoordinatorEvent, CoordinatorEventType } from "./events.ts";

/**
 * Between the coordinator's events and the event store's generic rows
 * (`{ type, at, data }`, data as JSON): the runtime appends `encodeEvent`
 * and folds `decodeEvent`, so a replayed log is the log that was written.
 */

export const coordinatorEventTypes = [
  "RunStarted",
  "IssuesLoaded",
  "Warmed",
  "WarmFailed",
  "Launched",
  "Reported",
  "RateLimited",
  "WorkerLost",
  "Pushed",
  "Verified",
  "VerifyFailed",
  "PullRequestOpened",
  "PullRequestChecked",
  "ReviewRequested",
  "Reviewed",
  "MergeReady",
  "Merged",
  "MergeRefused",
  "IssueClosed",
  "Restacked",
  "RestackConflicted",
  "Retargeted",
  "BranchDeleted",
  "RebaseRequested",
  "Retried",
  "Failed",
  "Blocked",
  "Paused",
  "Resumed",
  "Skipped",
  "WorkerMessaged",
  "RunFinished",
] as const satisfies readonly CoordinatorEventType[];

// A type added to the union and not to the list above fails to compile here.
type Unlisted = Exclude<CoordinatorEventType, (typeof coordinatorEventTypes)[number]>;
export const everyEventTypeListed: [Unlisted] extends [never] ? true : Unlisted = true;

const KNOWN: ReadonlySet<string> = new Set(coordinatorEventTypes);

/** The store's row for an event: its data is everything but `type` and `at`. */
export function encodeEvent(event: CoordinatorEvent): NewEvent {
  const { type, at, ...data } = event;
  return { type, at: new Date(at), data: toJson(data, type) };
}

/** The event a stored row holds. Throws a UserError for a type this cspace does not know (a newer one wrote it). */
export function decodeEvent(row: Pick<StoredEvent, "type" | "at" | "data">): CoordinatorEvent {
  if (!KNOWN.has(row.type)) {
    throw new UserError(`the coordinator's log has an event this cspace does not know: "${row.type}"`, {
      hint: "It was written by a newer cspace: upgrade to resume this run.",
    });
  }
  const data = row.data;
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new InternalError(`stored ${row.type} event has no data object`);
  }
  // Checked above: an object, not an array (the compiler does not narrow a readonly array away).
  const fields = data as { readonly [key: string]: Json };
  // The type is known and the data was written by encodeEvent from an event of that type.
  return { ...fields, type: row.type, at: row.at } as unknown as CoordinatorEvent;
}

/** The value as JSON, or an InternalError naming what would not survive the round trip. Absent fields are dropped, as JSON drops them. */
function toJson(value: unknown, where: string): Json {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (Number.isFinite(value)) return value;
    throw new InternalError(`${where} holds ${String(value)}, which JSON cannot keep`);
  }
  if (Array.isArray(value)) return value.map((item: unknown, i) => toJson(item, `${where}[${String(i)}]`));
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, Json> = {};
    for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = toJson(item, `${where}.${key}`);
    return out;
  }
  throw new InternalError(`${where} holds a ${typeof value} that is not plain JSON`);
}
