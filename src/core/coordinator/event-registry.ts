import type { z } from "zod";
import type { Json } from "../coordinator-store/port.ts";
import { InternalError } from "../errors.ts";
import type { CoordinatorState } from "./state.ts";

/**
 * How an event type is declared: once, in one entry (`defineEvent`) that holds
 * its fields' schema, its version, its line in the run's progress and its
 * fold. The codec validates what it reads with the schema and upcasts older
 * versions first; the state applies the entry's fold; the view shows its line.
 * Adding an event type is adding its entry to a group (fold-run.ts,
 * fold-attempts.ts, fold-integration.ts), the rule that uses it, and what
 * records it: a world action's result (outcomes.ts) or a decision
 * (actions.ts' `decisionEvent`). The union, the codec, the dispatch and the
 * view follow from the registry (events.ts).
 */

/** Stored data as the codec hands it to an upcaster: a JSON object. */
export type JsonObject = { readonly [key: string]: Json };

/** Every event: its type and when it was recorded (ISO 8601); the store adds the sequence number. */
export interface EventHead<T extends string> {
  readonly type: T;
  readonly at: string;
}

/** The event a type and its fields' schema describe. */
export type EventFrom<T extends string, F extends z.ZodType> = EventHead<T> & z.output<F>;

export interface EventEntry<T extends string, F extends z.ZodType> {
  readonly type: T;
  /**
   * The version of the fields' shape, from 1. Bump it when the shape changes,
   * and add the upcaster from the previous version: logs written before keep working.
   */
  readonly version: number;
  readonly fields: F;
  /** `upcast[n]` turns version n's stored data into version n+1's; applied in turn up to `version`. */
  readonly upcast: Readonly<Record<number, (data: JsonObject) => JsonObject>>;
  /**
   * Its line in the run's progress (ui/coordinate-lines.ts adds the time and bounds the length); null: not shown.
   * A worker's own words in it go through `shownText`: one line, shortened.
   */
  line(event: EventFrom<T, F>): string | null;
  /** The fold: the state after this event. Pure; an event that no longer fits changes nothing. */
  apply(state: CoordinatorState, event: EventFrom<T, F>): CoordinatorState;
}

/** An entry of any type, as the codec and the dispatch see it (the registry guarantees the event matches its entry). */
export type AnyEventEntry = EventEntry<string, z.ZodType<object>>;

export function defineEvent<const T extends string, F extends z.ZodType<object>>(
  type: T,
  spec: {
    readonly version: number;
    readonly fields: F;
    readonly upcast?: Readonly<Record<number, (data: JsonObject) => JsonObject>>;
    line(event: EventFrom<T, F>): string | null;
    apply(state: CoordinatorState, event: EventFrom<T, F>): CoordinatorState;
  },
): EventEntry<T, F> {
  for (let from = 1; from < spec.version; from++) {
    if (spec.upcast?.[from] === undefined) throw new InternalError(`event ${type} is at version ${String(spec.version)} but has no upcaster from version ${String(from)}`);
  }
  return { type, version: spec.version, fields: spec.fields, upcast: spec.upcast ?? {}, line: (event) => spec.line(event), apply: (state, event) => spec.apply(state, event) };
}

/** Entries keyed by their type: a group a fold file exports, spread into the registry. */
export function eventGroup<const E extends readonly EventEntry<string, z.ZodType<object>>[]>(...entries: E): { readonly [X in E[number] as X["type"]]: X } {
  return Object.fromEntries(entries.map((entry) => [entry.type, entry])) as { readonly [X in E[number] as X["type"]]: X };
}

/** The event an entry declares. */
export type EventOfEntry<E> = E extends EventEntry<infer T, infer F> ? EventFrom<T, F> : never;
