import { encodeEvent } from "../../core/coordinator/codec.ts";
import type { CoordinatorEvent } from "../../core/coordinator/events.ts";
import { apply, type CoordinatorState } from "../../core/coordinator/state.ts";
import type { CoordinatorProgress, ProgressListener } from "../../core/coordinator-runtime/progress.ts";
import type { EventStore } from "../../core/coordinator-store/port.ts";
import { dueNotifications, type Notification } from "../../core/notify/notification.ts";

/** How long `notify.command` may run before it is stopped (and reported as a notice). */
export const NOTIFY_COMMAND_TIMEOUT_MS = 10_000;

export interface NotifierOptions {
  readonly store: EventStore;
  readonly runId: string;
  /** The run's state as replayed from its log when the coordinator started. */
  readonly state: CoordinatorState;
  /** The causes the log says were notified already (`notifiedCauses`). */
  readonly notified: ReadonlySet<string>;
  /** Delivers a notification to the user's command (`notify.command`); absent when none is configured. */
  readonly deliver?: ((notification: Notification) => Promise<void>) | undefined;
  /** The views: every progress is passed on, and a `Notified` event once it is recorded. */
  readonly onProgress?: ProgressListener | undefined;
  readonly now?: (() => Date) | undefined;
}

/**
 * Subscribed to a running coordinator's progress: after each event it folds
 * its own copy of the state, asks what needs a person now that was not
 * notified yet (core/notify), records a `Notified` event for each (durable
 * before anything is sent, so a resume never sends it again), passes the
 * event to the views (the terminal notification is theirs to write) and runs
 * `notify.command` with it. Delivery is in order, one at a time, and off the
 * coordinator's path: a command that fails or hangs is a notice, never a
 * stop. `finish` notifies the run's end and waits for what is under way.
 */
export class Notifier {
  readonly #o: NotifierOptions;
  #state: CoordinatorState;
  readonly #notified: Set<string>;
  #queue: Promise<void> = Promise.resolve();

  constructor(options: NotifierOptions) {
    this.#o = options;
    this.#state = options.state;
    this.#notified = new Set(options.notified);
  }

  /** The listener to give the coordinator: it passes everything on, then notifies what became due. */
  readonly listener: ProgressListener = (progress: CoordinatorProgress) => {
    this.#o.onProgress?.(progress);
    if (progress.kind !== "event") return;
    this.#state = apply(this.#state, progress.event);
    this.check();
  };

  /** Notifies what is due now (at start: what a crash left unsent). */
  check(): void {
    const at = (this.#o.now?.() ?? new Date()).toISOString();
    for (const notification of dueNotifications(this.#state, this.#notified, at)) {
      this.#notified.add(notification.cause);
      this.#queue = this.#queue.then(() => this.#send(notification));
    }
  }

  /** After the run's loop: its end is notified, and everything queued is sent. */
  async finish(state: CoordinatorState): Promise<void> {
    this.#state = state;
    this.check();
    await this.#queue;
  }

  async #send(notification: Notification): Promise<void> {
    const event: CoordinatorEvent = { type: "Notified", at: notification.at, cause: notification.cause, kind: notification.kind, issue: notification.issue, reason: notification.reason };
    try {
      const [seq] = await this.#o.store.append(this.#o.runId, [encodeEvent(event)]);
      this.#o.onProgress?.({ kind: "event", seq: seq ?? 0, event });
    } catch (error) {
      // Not recorded: not sent either, so a resume may send it (better than a notification never sent).
      this.#notice(`notification not recorded, so not sent: ${message(error)}`);
      return;
    }
    if (this.#o.deliver === undefined) return;
    await this.#o.deliver(notification).catch((error: unknown) => { this.#notice(`notify.command failed for ${notification.cause}: ${message(error)}`); });
  }

  #notice(text: string): void {
    this.#o.onProgress?.({ kind: "notice", at: (this.#o.now?.() ?? new Date()).toISOString(), text });
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
