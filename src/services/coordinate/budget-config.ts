import type { Config } from "../../core/config/schema.ts";
import type { Budget } from "../../core/coordinator/state.ts";

/** `coordinator.budget` as the coordinator holds it: a ceiling not set is none. */
export function budgetOf(config: Config): Budget {
  const budget = config.coordinator.budget;
  return { run: budget?.run ?? null, issue: budget?.issue ?? null };
}

/**
 * Presets whose agent states what it spent in dollars (Claude Code's
 * `total_cost_usd`, aider's session cost, opencode's per-step cost). The
 * others (Codex, Gemini CLI, a `command`) report tokens or nothing: no budget
 * in dollars can hold them, and the run says so when a budget is set.
 */
const STATES_COST: ReadonlySet<string> = new Set(["claude", "aider", "opencode", "scripted"]);

/** Why a configured budget cannot hold this agent, or null when it can (or none is set). */
export function costlessAgent(preset: string, priced = false): string | null {
  return STATES_COST.has(preset) || priced
    ? null
    : `the ${preset} agent reports no cost in dollars and coordinator.prices has no price for it, so coordinator.budget cannot hold it: its issues and the run are not stopped by spending`;
}
