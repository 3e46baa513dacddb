import type { LineFacts } from "./preset.ts";

/**
 * Counts an agent's cost once. Agents state cost in two ways, and a
 * running total is easy to count twice: Claude Code's `total_cost_usd` is
 * the session's total so far, carried over by `--resume` into a new
 * process, so adding each process's last total counts a resumed session
 * again. The ledger turns every line into its own share:
 *
 * - a share the agent states for itself (`addCostUsd`: Claude Code's
 *   `model_usage_since_last_result`, opencode's per-step cost) is taken as it is;
 * - otherwise a running total (`costUsd`) counts what it grew by since the
 *   last total seen in the same session (a total that went down was reset,
 *   a `/clear`: it counts from zero);
 * - the first total of a session this process resumed, with no share
 *   stated, is where that session stood: it was counted by whoever ran it
 *   before, so it counts nothing;
 * - unless what was counted before is known (a `cspace restart` says): then
 *   that first total less what was counted is this line's share, even where
 *   a share is stated. A process stopped mid-turn may print no result, so
 *   its spend is in no share; Claude Code's running total carries it over
 *   `--resume`, and only the difference counts it, once.
 *
 * Pure: the supervisor keeps one per worker, and the tests drive it directly.
 */
export class UsageLedger {
  /** The last running total seen, by session key. */
  readonly #totals = new Map<string, number>();
  /** Sessions taken over from an earlier process whose totals this ledger never saw. */
  readonly #resumed = new Set<string>();
  /** Of those, the dollars already counted by the processes before, where known. */
  readonly #countedBefore = new Map<string, number>();

  /**
   * `sessionId` was resumed from a process this ledger did not watch: its first total is a baseline, or, when
   * `countedUsd` says what was counted of the session before, that total less it is still to count.
   */
  resumed(sessionId: string, countedUsd: number | null = null): void {
    if (this.#totals.has(sessionId)) return;
    this.#resumed.add(sessionId);
    if (countedUsd !== null) this.#countedBefore.set(sessionId, countedUsd);
  }

  /** This line's own share of the cost, in dollars; null when it states none. `session` keys its running total. */
  share(facts: Pick<LineFacts, "costUsd" | "addCostUsd">, session: string): number | null {
    const total = facts.costUsd;
    const previous = this.#totals.get(session);
    const baseline = previous === undefined && this.#resumed.has(session);
    const counted = baseline ? this.#countedBefore.get(session) : undefined;
    if (total !== undefined) {
      this.#totals.set(session, total);
      this.#resumed.delete(session);
      this.#countedBefore.delete(session);
      if (counted !== undefined) return Math.max(facts.addCostUsd ?? 0, Math.round((total - counted) * 1e9) / 1e9);
    }
    if (facts.addCostUsd !== undefined) return facts.addCostUsd;
    if (total === undefined) return null;
    if (baseline) return 0;
    // Differences of float dollars drift (0.025 - 0.0125); a billionth of a dollar is finer than any agent states.
    return previous === undefined || total < previous ? total : Math.round((total - previous) * 1e9) / 1e9;
  }
}

/** a + b where either may be unknown (null): null only when both are. */
export function addCost(a: number | null, b: number | null): number | null {
  return a === null && b === null ? null : (a ?? 0) + (b ?? 0);
}
