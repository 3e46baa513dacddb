import type { Paint } from "./tone.ts";

/**
 * The agent's state for people: the columns `list` adds and the lines of
 * `cspace status`. Takes plain data (the services' AgentView fits it).
 */
export interface AgentSummary {
  readonly state: string;
  readonly label: string;
  readonly preset: string | null;
  readonly turns: number | null;
  readonly costUsd: number | null;
  readonly sessionId: string | null;
  readonly lastActivity: string | null;
  readonly queueDepth: number | null;
  readonly lostBecause: string | null;
  readonly apiRetry?: string | null;
  /** `costUsd` is tokens priced by `coordinator.prices`: shown with "~". */
  readonly costEstimated?: boolean;
}

export const AGENT_HEADER = ["AGENT", "TURNS", "COST", "LAST ACTIVITY"] as const;

export function agentCells(agent: AgentSummary, now: number = Date.now()): string[] {
  return [
    agent.state === "lost" && agent.lastActivity !== null ? `lost (since ${ago(agent.lastActivity, now)})` : agent.label,
    agent.turns === null ? "-" : String(agent.turns),
    cost(agent.costUsd, agent.costEstimated === true),
    agent.lastActivity === null ? "-" : ago(agent.lastActivity, now),
  ];
}

/** `cspace status <instance>`: one line per fact. */
export function statusLines(instance: string, agent: AgentSummary, details: { readonly branch: string | null; readonly headSha: string | null; readonly pid: number | null }, paint: Paint, now: number = Date.now()): string[] {
  const tone = agent.state === "lost" ? "bad" : agent.state === "exited" ? (agent.label === "exited 0" ? "good" : "warn") : "good";
  const lines = [`${paint("heading", instance)}: ${paint(tone, agent.label)}${agent.preset === null ? "" : ` (${agent.preset})`}`];
  if (agent.lostBecause !== null) lines.push(`  why:            ${agent.lostBecause}`);
  if (agent.apiRetry !== undefined && agent.apiRetry !== null) lines.push(`  retrying:       ${paint("warn", agent.apiRetry)}`);
  if (details.branch !== null) lines.push(`  branch:         ${details.branch}${details.headSha === null ? "" : ` at ${details.headSha.slice(0, 12)}`}`);
  if (agent.turns !== null) lines.push(`  turns:          ${String(agent.turns)}`);
  if (agent.costUsd !== null) lines.push(`  cost:           ${cost(agent.costUsd, agent.costEstimated === true)}${agent.costEstimated === true ? " (estimated: tokens priced by coordinator.prices)" : ""}`);
  if (agent.queueDepth !== null) lines.push(`  queued:         ${String(agent.queueDepth)} message(s)`);
  if (agent.sessionId !== null) lines.push(`  session:        ${agent.sessionId}`);
  if (details.pid !== null) lines.push(`  supervisor pid: ${String(details.pid)} (in the container)`);
  if (agent.lastActivity !== null) lines.push(`  last activity:  ${agent.lastActivity} (${ago(agent.lastActivity, now)} ago)`);
  return lines;
}

function cost(usd: number | null, estimated = false): string {
  return usd === null ? "-" : `${estimated ? "~" : ""}$${usd.toFixed(2)}`;
}

function ago(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (Number.isNaN(s)) return iso;
  if (s < 60) return `${String(s)}s`;
  if (s < 3600) return `${String(Math.floor(s / 60))}m`;
  if (s < 86_400) return `${String(Math.floor(s / 3600))}h`;
  return `${String(Math.floor(s / 86_400))}d`;
}
