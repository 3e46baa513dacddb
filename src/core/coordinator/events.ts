import { type AnyEventEntry, type EventOfEntry } from "./event-registry.ts";
import { attemptEvents } from "./fold-attempts.ts";
import { lostWorkEvents } from "./fold-lost-work.ts";
import { budgetEvents } from "./fold-budget.ts";
import { integrationEvents } from "./fold-integration.ts";
import { freshEvents } from "./fold-fresh.ts";
import { parentEvents } from "./fold-parent.ts";
import { predictionEvents } from "./fold-predictions.ts";
import { runEvents } from "./fold-run.ts";
import { verificationEvents } from "./fold-verification.ts";
import { notifyEvents } from "./fold-notify.ts";
import { retryEvents } from "./fold-retry.ts";
import { stallEvents } from "./fold-stalls.ts";

/**
 * The run's log: every observation of the world and every decision, in the
 * order they were made durable. The state is a fold over them (state.ts), so
 * `cspace status`, the dashboard and the report all read the same truth.
 *
 * Each type is declared once, in the registry below (event-registry.ts): its
 * fields' schema, its version and its fold, grouped by what they touch —
 * the run and the operator (fold-run.ts), instances and attempts
 * (fold-attempts.ts), branches, pull requests and merges (fold-integration.ts).
 *
 * Two kinds, told apart by who records them:
 * - observations, recorded by the runtime after it acted or heard something
 *   (`Launched`, `Reported`, `Pushed`, `Merged`, `RestackConflicted`, …;
 *   a world action's through `outcomeEvents` in outcomes.ts), and its
 *   retries (`ActionFailed`, `ActionRecovered`);
 * - decisions, recorded when the runtime executes a decision-only action
 *   (`Retried`, `Failed`, `Blocked`, `RebaseRequested`, `ReviewRequested`,
 *   `Reviewed`, `RunFinished`: see `decisionEvent` in actions.ts).
 * Operator commands (`Paused`, `Resumed`, `Skipped`) are recorded as given,
 * and so is what a worker says with `cspace send _coordinator` (`WorkerMessaged`).
 *
 * Each event is plain JSON with a `type` and `at` (ISO 8601, when it was
 * recorded); the store adds the sequence number. Applying an event twice, or
 * one that no longer fits (a report for an attempt already ended), changes
 * nothing, so a resent report or a replayed outbox is harmless.
 */
export const coordinatorEvents = { ...runEvents, ...attemptEvents, ...lostWorkEvents, ...integrationEvents, ...freshEvents, ...budgetEvents, ...verificationEvents, ...predictionEvents, ...notifyEvents, ...parentEvents, ...retryEvents, ...stallEvents };

type Registry = typeof coordinatorEvents;

export type CoordinatorEventType = keyof Registry;

export type CoordinatorEvent = { [K in CoordinatorEventType]: EventOfEntry<Registry[K]> }[CoordinatorEventType];

/** The event of one type. */
export type EventNamed<K extends CoordinatorEventType> = Extract<CoordinatorEvent, { readonly type: K }>;

export const coordinatorEventTypes = Object.keys(coordinatorEvents) as readonly CoordinatorEventType[];

/** The entry of a type this cspace knows; undefined for one it does not (a newer cspace wrote it). */
export function eventEntry(type: string): AnyEventEntry | undefined {
  return Object.hasOwn(coordinatorEvents, type) ? coordinatorEvents[type as CoordinatorEventType] : undefined;
}

/** The event's line in the run's progress, as its entry declares it; null: not shown. */
export function eventLine(event: CoordinatorEvent): string | null {
  return eventEntry(event.type)?.line(event) ?? null;
}
