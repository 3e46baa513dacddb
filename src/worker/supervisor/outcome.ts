import type { ReportOutcome } from "../../core/agents/worker-status.ts";
import type { AgentExit } from "./agent-process.ts";

export interface OutcomeFacts {
  readonly exit: AgentExit;
  /** We stopped it (interrupt, shutdown, the supervisor's own SIGTERM). */
  readonly stoppedByUs: boolean;
  /** The reason from blocked.json, when the agent declared itself blocked. */
  readonly blockedReason: string | null;
  /** The memory cgroup's oom_kill counter grew while the agent ran. */
  readonly oomKilled: boolean;
  /** Why git could not count the commits on the branch, or null when it could (see GitFacts). */
  readonly countError: string | null;
}

/** Exit codes a shell gives when its child died of SIGILL, SIGABRT, SIGBUS, SIGFPE, SIGKILL or SIGSEGV. */
const CRASH_CODES = new Set([132, 134, 135, 136, 137, 139]);

/**
 * The kernel's word comes first (an OOM kill explains any exit), then the
 * agent's own (blocked), then ours (we stopped it), then how it ended. An
 * exit 0 whose commits git could not count is a failure, not a success: the
 * coordinator would take the count of a success as "no commits" and never
 * push the work (the report's exit code 0 and summary say what happened).
 */
export function outcomeOf(facts: OutcomeFacts): ReportOutcome {
  const { exit } = facts;
  if (facts.oomKilled && (exit.signal === "SIGKILL" || exit.code === 137)) return "oom";
  if (facts.blockedReason !== null) return "blocked";
  if (facts.stoppedByUs) return "interrupted";
  if (exit.signal !== null || (exit.code !== null && CRASH_CODES.has(exit.code))) return "crash";
  if (exit.code !== 0) return "failure";
  return facts.countError === null ? "success" : "failure";
}

/** Keeps the last lines of the agent's output, for a summary when the preset gives no final message. */
export class OutputTail {
  readonly #lines: string[] = [];
  readonly #maxLines: number;

  constructor(maxLines = 20) {
    this.#maxLines = maxLines;
  }

  push(line: string): void {
    if (line.trim() === "") return;
    this.#lines.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
    if (this.#lines.length > this.#maxLines) this.#lines.shift();
  }

  clear(): void {
    this.#lines.length = 0;
  }

  text(): string {
    return this.#lines.join("\n");
  }
}

/** Report ids sort by time, are unique, and are safe as file names: `<instance>-<UTC time>-<random>`. */
export function reportId(instance: string, at: Date, random: string): string {
  const time = at.toISOString().replace(/[-:]/g, "").replace(".", "");
  return `${instance}-${time}-${random}`;
}
