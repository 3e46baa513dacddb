import type { CoordinatorEvent } from "../../core/coordinator/events.ts";
import { openAttempt } from "../../core/coordinator/queries.ts";
import type { CoordinatorState } from "../../core/coordinator/state.ts";
import type { WorkerPool } from "../../core/coordinator-runtime/ports.ts";

export interface BudgetWatchContext {
  readonly workers: WorkerPool;
  /** The state as recorded so far (read after every await: it moves on meanwhile). */
  readonly state: () => CoordinatorState;
  /** Whether a launch of the issue is under way: its attempt is not recorded yet. */
  readonly launching: (issue: number) => boolean;
  readonly record: (events: readonly CoordinatorEvent[]) => Promise<void>;
  readonly notice: (text: string) => void;
  readonly now: () => string;
}

/**
 * How a budget holds while agents work (docs/architecture.md, "Budgets"):
 * with `coordinator.budget` set, every open attempt's supervisor is asked,
 * at the runtime's probe interval, what its running invocation has spent
 * that no report holds yet (`status`'s `unreported`), and a change is
 * recorded as `Spending`. The rules then see the issue's spend as it grows
 * (rules-budget.ts) and stop an agent that passed its issue's budget.
 * Polled rather than pushed: no new request on the worker's c.sock, and a
 * worker that stops answering changes nothing (its reports stay the account).
 */
export class BudgetWatch {
  readonly #c: BudgetWatchContext;
  #polling: Promise<void> | null = null;

  constructor(context: BudgetWatchContext) {
    this.#c = context;
  }

  /** One poll at a time; one asked for while another runs is skipped (the next interval asks again). */
  pollSoon(): void {
    if (this.#polling !== null) return;
    this.#polling = this.#poll()
      .catch((error: unknown) => { this.#c.notice(`asking workers what they spent: ${error instanceof Error ? error.message : String(error)}`); })
      .finally(() => { this.#polling = null; });
  }

  async #poll(): Promise<void> {
    const before = this.#c.state();
    if (before.budget.issue === null && before.budget.run === null) return;
    const open = Object.values(before.issues).filter((issue) => openAttempt(issue) !== null && !this.#c.launching(issue.number));
    if (open.length === 0) return;
    const figures = await this.#c.workers.spending(open.map((issue) => issue.branch));
    const events: CoordinatorEvent[] = [];
    for (const issue of open) {
      const spend = figures.get(issue.branch);
      // Read again: a report may have ended the attempt meanwhile (the fold also drops a stale one).
      const attempt = openAttempt(this.#c.state().issues[issue.number] ?? issue);
      if (spend === undefined || attempt === null) continue;
      const live = attempt.live ?? null;
      if (live !== null && live.since === spend.since && live.turns === spend.turns && live.costUsd === spend.costUsd) continue;
      events.push({ type: "Spending", at: this.#c.now(), issue: issue.number, attempt: attempt.number, since: spend.since, turns: spend.turns, costUsd: spend.costUsd });
    }
    if (events.length > 0) await this.#c.record(events);
  }
}
