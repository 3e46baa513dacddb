import type { UsageLimit } from "./usage-limit.ts";

/**
 * What a worker's supervisor says about its agent: over the socket (`status`),
 * in state.json, in events, and in the report it sends when the agent exits.
 * Pure types shared by the host and the supervisor.
 */

/**
 * `starting`: the agent process is being spawned. `working`: it is taking a
 * turn. `idle`: it waits for a message (a session-keeping preset between
 * turns). `exited`: it ended and the report is written. `lost` is never said
 * by a supervisor: the host concludes it when the supervisor or container is
 * gone.
 */
export type AgentState = "starting" | "working" | "idle" | "exited";

export type HostAgentState = AgentState | "lost" | "none";

export interface WorkerStatus {
  readonly instance: string;
  readonly preset: string;
  readonly state: AgentState;
  /** Exit code once exited (null while running, or when ended by a signal). */
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly turns: number;
  /** US dollars, where the agent reports it; null when unknown. */
  readonly costUsd: number | null;
  readonly sessionId: string | null;
  /** ISO 8601 time of the last event. */
  readonly lastActivity: string;
  /** Messages received and not yet delivered to the agent. */
  readonly queueDepth: number;
  readonly branch: string;
  readonly headSha: string | null;
  /** The supervisor's process id inside the container. */
  readonly pid: number;
  readonly startedAt: string;
  /**
   * The API error the agent is retrying, while it retries ("API error 529,
   * retry 3 of 10"): absent once the agent says anything else. Without it a
   * failing API looks like minutes of nothing.
   */
  readonly apiRetry?: string;
  /**
   * What the running invocation has done that no report holds yet: its turns
   * and cost so far (and those of runs its report will cover), and when the
   * first of them started. The coordinator polls it to hold a budget while
   * the agent runs; absent with no run (and from older supervisors).
   */
  readonly unreported?: UnreportedSpend;
  /** `costUsd` is (partly) tokens priced by `coordinator.prices`, not what the agent said it cost. Absent otherwise. */
  readonly costEstimated?: true;
}

/** A running invocation's figures, not yet in any report (WorkerStatus.unreported). */
export interface UnreportedSpend {
  readonly turns: number;
  /** US dollars, where the agent reports it; null when unknown. */
  readonly costUsd: number | null;
  /** ISO 8601: when the run these figures belong to started (worker's clock); a report ended before it does not hold them. */
  readonly since: string;
}

/**
 * How the agent's run ended. `success`: exit 0. `failure`: another exit code.
 * `crash`: killed by a signal it did not ask for (SIGKILL, SIGSEGV); `oom`:
 * killed for memory (exit 137 with the container's OOM flag, or the kernel's
 * word for it); `blocked`: the agent said it cannot go on and why;
 * `interrupted`: stopped by `cspace interrupt`, `restart` or `down`.
 */
export type ReportOutcome = "success" | "failure" | "crash" | "oom" | "blocked" | "interrupted";

export interface WorkerReport {
  /** Unique per report; a resent report carries the same id, so duplicates are dropped by it. */
  readonly id: string;
  readonly instance: string;
  readonly outcome: ReportOutcome;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly branch: string;
  readonly base: string;
  readonly headSha: string | null;
  /** Commits on the branch that are not on the base. */
  readonly commitsAhead: number;
  /** The agent's final message where the preset gives one, else the tail of its output. */
  readonly summary: string;
  /** The reason given with `blocked`. */
  readonly blockedReason: string | null;
  readonly turns: number;
  readonly costUsd: number | null;
  readonly sessionId: string | null;
  /** ISO 8601. */
  readonly startedAt: string;
  readonly endedAt: string;
  /**
   * The agent failed because its account hit a usage limit (its last words
   * said so): the coordinator parks the account instead of counting a
   * failure. Absent or null otherwise (and in reports of older workers).
   */
  readonly usageLimit?: UsageLimit | null;
  /**
   * Set on the `interrupted` report of a supervisor stopped by `cspace
   * restart`: a new supervisor carries on the same attempt (resuming the
   * session where the preset can), so the coordinator keeps the attempt open
   * and adds this report's turns and cost to it. Absent otherwise.
   */
  readonly restarted?: boolean;
  /** `costUsd` is (partly) tokens priced by `coordinator.prices` (the agent reports no cost). Absent otherwise. */
  readonly costEstimated?: true;
}

/** One line of events.ndjson. */
export interface WorkerEvent {
  /** ISO 8601. */
  readonly ts: string;
  /** `agent`: parsed from the agent's output; `supervisor`: what the supervisor did or saw; `message`: a message received. */
  readonly source: "agent" | "supervisor" | "message";
  /** `text`, `tool`, `turn`, `result`, `stderr`, `started`, `exited`, `queued`, `delivered`, `report-sent`, … */
  readonly type: string;
  readonly text?: string;
  readonly data?: unknown;
}
