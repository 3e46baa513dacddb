import type { HostAgentState, WorkerStatus } from "../../core/agents/worker-status.ts";

/**
 * What the host says about an instance's agent, from what it can see: the
 * supervisor's answer on w.sock (the truth while it answers), else the last
 * state.json it wrote, and whether the container runs. One derivation for
 * `list`, `status` and `up --follow`, so the views never disagree.
 */

/** Whether the instance's container runs, is stopped (exited, paused, …), or is gone. */
export type ContainerPresence = "running" | "stopped" | "missing";

export interface AgentFacts {
  readonly container: ContainerPresence;
  /** The supervisor's `status` reply; null when nobody answered in time. */
  readonly live: WorkerStatus | null;
  /** Why the answer on w.sock was refused (a hostile or broken peer); the agent is then lost whatever was recorded. */
  readonly broken?: string | null | undefined;
  /** state.json as last written; null when no supervisor ever ran here. */
  readonly recorded: WorkerStatus | null;
  /** The time of the last line in events.ndjson, when there is one. */
  readonly lastEventAt: string | null;
}

export interface AgentView {
  readonly state: HostAgentState;
  /** For people: `working`, `idle`, `exited 0`, `exited SIGKILL`, `lost`, `none`. */
  readonly label: string;
  readonly preset: string | null;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly turns: number | null;
  readonly costUsd: number | null;
  readonly sessionId: string | null;
  /** ISO 8601: the later of the status's last activity and the last event. */
  readonly lastActivity: string | null;
  readonly queueDepth: number | null;
  /** Why the state is `lost`, for people; null otherwise. */
  readonly lostBecause: string | null;
  /** The API error the agent retries now ("API error 529, retry 3 of 10"); null when it is not retrying. */
  readonly apiRetry: string | null;
  /** `costUsd` is (partly) tokens priced by `coordinator.prices`: an estimate. */
  readonly costEstimated?: boolean;
}

export function agentView(facts: AgentFacts): AgentView {
  const status = facts.live ?? facts.recorded;
  const lastActivity = latest(status?.lastActivity ?? null, facts.lastEventAt);
  if (facts.broken !== undefined && facts.broken !== null) {
    // Whatever answers is not a supervisor cspace can trust: nothing it or its files say is taken as the agent's state.
    return { state: "lost", label: "lost", preset: status?.preset ?? null, exitCode: null, signal: null, turns: null, costUsd: null, sessionId: null, lastActivity, queueDepth: null, lostBecause: facts.broken, apiRetry: null };
  }
  if (status === null) {
    return { state: "none", label: "none", preset: null, exitCode: null, signal: null, turns: null, costUsd: null, sessionId: null, lastActivity, queueDepth: null, lostBecause: null, apiRetry: null };
  }
  const base = {
    preset: status.preset,
    exitCode: status.exitCode,
    signal: status.signal,
    turns: status.turns,
    costUsd: status.costUsd,
    ...(status.costEstimated === true ? { costEstimated: true } : {}),
    sessionId: status.sessionId,
    lastActivity,
    queueDepth: status.queueDepth,
    // Only while it runs: an exited or lost agent retries nothing.
    apiRetry: facts.live !== null && facts.live.state === "working" ? (facts.live.apiRetry ?? null) : null,
  };
  if (facts.live !== null) return { ...base, state: facts.live.state, label: labelOf(facts.live), lostBecause: null };
  // Nobody answers. An agent that had exited (its report written) ended; anything else was cut off.
  if (status.state === "exited") return { ...base, state: "exited", label: labelOf(status), lostBecause: null };
  const because =
    facts.container === "missing"
      ? "the container is gone"
      : facts.container === "stopped"
        ? "the container is not running"
        : "the supervisor does not answer";
  return { ...base, state: "lost", label: "lost", queueDepth: null, lostBecause: `${because} (agent was ${status.state})` };
}

function labelOf(status: WorkerStatus): string {
  if (status.state !== "exited") return status.state;
  if (status.exitCode !== null) return `exited ${String(status.exitCode)}`;
  return status.signal === null ? "exited" : `exited ${status.signal}`;
}

function latest(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}
