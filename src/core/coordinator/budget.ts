import type { CoordinatorState, IssueRecord } from "./state.ts";

/**
 * Spending ceilings (`coordinator.budget`, dollars), against the cost the
 * agents report: each attempt's, the sum of its reports, each of which
 * carries only its own run's share (agents/usage-ledger.ts), and, while an
 * attempt runs, what its running invocation has spent that no report holds
 * yet (`Spending`, polled from its supervisor: fold-budget.ts). An issue that
 * has spent its budget fails with the reason: a running agent is stopped
 * (rules-budget.ts), an ended attempt is not retried; a run
 * that has spent its budget starts no agent (those running finish) until the
 * operator raises the budget and sends `resume`, which re-reads it.
 * An agent that reports no cost is not held by either: cspace says so when
 * the run starts (budget-notice in the coordinate service).
 */

/** Dollars the issue's attempts cost, as far as their agents said. */
export function issueSpent(record: IssueRecord): number {
  return record.attempts.reduce((sum, attempt) => sum + (attempt.costUsd ?? 0) + (attempt.end === null ? (attempt.live?.costUsd ?? 0) : 0), 0);
}

export function runSpent(state: CoordinatorState): number {
  return Object.values(state.issues).reduce((sum, record) => sum + issueSpent(record), 0);
}

/** Why the issue may spend no more, or null while it may. */
export function issueOverBudget(state: CoordinatorState, record: IssueRecord): string | null {
  const budget = state.budget.issue;
  if (budget === null) return null;
  const spent = issueSpent(record);
  return spent >= budget ? `it spent ${dollars(spent)} of its ${dollars(budget)} budget (coordinator.budget.issue)` : null;
}

/** Why the run starts no agent, or null while it may. */
export function runOverBudget(state: CoordinatorState): string | null {
  const budget = state.budget.run;
  if (budget === null) return null;
  const spent = runSpent(state);
  return spent >= budget
    ? `the run spent ${dollars(spent)} of its ${dollars(budget)} budget: no agent starts until coordinator.budget.run is raised and the run resumed (cspace send _coordinator resume)`
    : null;
}

/** Cents, or hundredths of a cent below a dollar when cents would hide the amount ($0.0125 against a $0.01 budget). */
export function dollars(amount: number): string {
  const cents = Math.round(amount * 100);
  return `$${amount >= 1 || Math.abs(amount * 100 - cents) < 1e-9 ? amount.toFixed(2) : amount.toFixed(4)}`;
}
