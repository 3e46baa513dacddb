import type { CoordinatorEvent } from "../../core/coordinator/events.ts";
import { isSettled } from "../../core/coordinator/queries.ts";
import { stallMs, stallOf } from "../../core/coordinator/stalls.ts";
import type { CoordinatorState } from "../../core/coordinator/state.ts";
import type { AgentEventSeen, WorkerPool } from "../../core/coordinator-runtime/ports.ts";
import { SHOWN_TEXT_CHARS, shownText } from "../../core/messaging/shown-text.ts";

export interface StallWatchContext {
  readonly workers: WorkerPool;
  /** The state as recorded so far (read after every await: it moves on meanwhile). */
  readonly state: () => CoordinatorState;
  /** Whether a launch of the issue is under way: its attempt is not recorded yet. */
  readonly launching: (issue: number) => boolean;
  readonly record: (events: readonly CoordinatorEvent[]) => Promise<void>;
  readonly notice: (text: string) => void;
  /** The runtime's clock (ms since the epoch): silence is measured on it, never on a worker's. */
  readonly now: () => number;
}

/** What a stall step's executor learns first: whether the agent did something after all, and its last event for the nudge. */
export interface StallLook {
  readonly active: boolean;
  readonly lastEvent: string | null;
}

/**
 * Where the coordinator learns of agent activity for stalls
 * (core/coordinator/stalls.ts): every open attempt's last agent event, read
 * from its worker's event log (`WorkerPool.lastAgentEvents`) at a quarter
 * of `stallMinutes` (at most the probe interval). A new one is agent
 * activity, recorded as `AgentActive` at the runtime's time (a worker's
 * clock is only compared with itself); so that a busy agent does not write
 * the log full, only once half of `stallMinutes` has gone since the last
 * (or at once while a stall step is taken). A stall is therefore declared
 * after between `stallMinutes` and 1.5 × `stallMinutes` of silence. The
 * supervisor's own events (a nudge queued, a message delivered) are not
 * the agent's and do not count.
 */
export class StallWatch {
  readonly #c: StallWatchContext;
  /** Per open attempt (`issue:attempt`), the last agent event recorded as activity. */
  readonly #recorded = new Map<string, string>();
  #polling: Promise<void> | null = null;

  constructor(context: StallWatchContext) {
    this.#c = context;
  }

  /** How often to look: a quarter of stallMinutes, within [250 ms, probe interval]; null when stalls are not watched. */
  intervalMs(probeIntervalMs: number): number | null {
    const ms = stallMs(this.#c.state());
    return ms === null ? null : Math.max(250, Math.min(probeIntervalMs, ms / 4));
  }

  /** One poll at a time; one asked for while another runs is skipped (the next interval asks again). Resolves when it is done. */
  pollSoon(): Promise<void> {
    if (this.#polling !== null) return this.#polling;
    const polling = this.#poll()
      .catch((error: unknown) => { this.#c.notice(`reading what agents did: ${error instanceof Error ? error.message : String(error)}`); })
      .finally(() => { this.#polling = null; });
    this.#polling = polling;
    return polling;
  }

  async #poll(): Promise<void> {
    const before = this.#c.state();
    const ms = stallMs(before);
    if (ms === null) return;
    const open = Object.values(before.issues).filter((issue) => !isSettled(issue) && stallOf(issue) !== null && !this.#c.launching(issue.number));
    if (open.length === 0) return;
    const seen = await this.#c.workers.lastAgentEvents(open.map((issue) => issue.branch));
    const events: CoordinatorEvent[] = [];
    const now = this.#c.now();
    for (const issue of open) {
      const event = seen.get(issue.branch);
      // Read again: a report may have ended the attempt meanwhile (the fold also drops a stale one).
      const stall = stallOf(this.#c.state().issues[issue.number] ?? issue);
      if (event === undefined || stall === null) continue;
      const key = `${String(issue.number)}:${String(stall.attempt)}`;
      if (this.#recorded.get(key) === keyOf(event)) continue;
      const quietFor = now - Date.parse(stall.quietSince);
      if (stall.step === null && quietFor < ms / 2) continue;
      this.#recorded.set(key, keyOf(event));
      events.push({ type: "AgentActive", at: new Date(now).toISOString(), issue: issue.number, attempt: stall.attempt });
    }
    if (events.length > 0) await this.#c.record(events);
  }

  /**
   * Before a step is taken: whether the agent of the attempt wrote an event since the watch last recorded one (then
   * the step's outcome is `AgentActive`, and this counts it as recorded), and its last event, for the nudge's text.
   */
  async look(issue: number, attempt: number, instance: string): Promise<StallLook> {
    const event = (await this.#c.workers.lastAgentEvents([instance]).catch(() => new Map<string, AgentEventSeen>())).get(instance);
    if (event === undefined) return { active: false, lastEvent: null };
    const key = `${String(issue)}:${String(attempt)}`;
    const active = this.#recorded.get(key) !== keyOf(event);
    if (active) this.#recorded.set(key, keyOf(event));
    return { active, lastEvent: `${event.type}${event.text === null || event.text === "" ? "" : `: ${shownText(event.text, SHOWN_TEXT_CHARS)}`}` };
  }
}

function keyOf(event: AgentEventSeen): string {
  return `${event.ts} ${event.type} ${event.text ?? ""}`;
}
