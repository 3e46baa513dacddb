import type { TokenPrice } from "../agents/token-price.ts";

/**
 * launch.json: what the supervisor runs, written by the host (`cspace up`,
 * `restart`) into the instance directory before the supervisor starts. Paths
 * are as the container sees them. Pure: the supervisor reads the file, this
 * module checks what it read.
 */

export const LAUNCH_VERSION = 1;

export interface Launch {
  readonly v: 1;
  readonly instance: string;
  /** A preset name (`claude`, `codex`, …, `command`, `scripted`). */
  readonly preset: string;
  /** agent.command, for the `command` preset; null otherwise. */
  readonly command: string | null;
  /** agent.commandInput: how the `command` preset takes messages (absent in older launch files: per-message). */
  readonly commandInput: "per-message" | "stream";
  readonly model: string | null;
  /** The branch the agent works on (`issue-<N>`), already checked out in workdir. */
  readonly branch: string;
  /** The base branch it started from (a feature branch or a dependency's branch). */
  readonly base: string;
  /** The base's commit when the branch was made: commits ahead are counted from it. Null when unknown. */
  readonly baseSha: string | null;
  /** The workspace checkout, the agent's working directory. */
  readonly workdir: string;
  /** The rendered prompt (normally /run/cspace/prompt.md). */
  readonly promptFile: string;
  /** Resume this session (restart of a resumable preset); null to start a new one. */
  readonly resumeSessionId: string | null;
  /** Why this is a restart (`cspace restart --reason`); null on a first start. */
  readonly restartReason: string | null;
  /**
   * The dollars earlier supervisors already counted of the resumed session (a restart); null when unknown.
   * The session's running total less this is what is still uncounted, such as a turn whose process was
   * stopped before it printed its result.
   */
  readonly resumedCostUsd: number | null;
  /**
   * The turns and dollars the supervisors before this one counted on this instance (a restart carries them on;
   * 0 and null on a first start). `status` shows totals over them, so a restart loses none; reports never repeat them.
   */
  readonly priorTurns?: number;
  readonly priorCostUsd?: number | null;
  /** `coordinator.prices` for this agent (dollars per million tokens): what its tokens cost when it states no cost; null: none. */
  readonly tokenPrice?: TokenPrice | null;
  /** events.ndjson is rotated to events.1.ndjson past this size. */
  readonly eventsMaxBytes: number;
  /** interrupt/shutdown: SIGINT, then SIGTERM after this long, then SIGKILL after as long again. */
  readonly stopGraceMs: number;
  /** The longest wait between two attempts to deliver a report while nobody listens. */
  readonly reportRetryMaxMs: number;
}

export const LAUNCH_DEFAULTS = {
  eventsMaxBytes: 10 * 1024 * 1024,
  stopGraceMs: 5000,
  reportRetryMaxMs: 30_000,
} as const;

export type LaunchParse = { readonly ok: true; readonly launch: Launch } | { readonly ok: false; readonly problems: readonly string[] };

/** Checks a parsed launch.json; optional fields get their defaults, every problem is listed. */
export function parseLaunch(value: unknown): LaunchParse {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { ok: false, problems: ["launch.json must hold a JSON object"] };
  const fields = value as Record<string, unknown>;
  const problems: string[] = [];
  if (fields.v !== LAUNCH_VERSION) problems.push(`v must be ${String(LAUNCH_VERSION)} (got ${JSON.stringify(fields.v ?? null)})`);
  const text = (key: string): string => {
    const field = fields[key];
    if (typeof field === "string" && field !== "") return field;
    problems.push(`${key} must be a non-empty string (got ${JSON.stringify(field ?? null)})`);
    return "";
  };
  const optionalText = (key: string): string | null => {
    const field = fields[key];
    if (field === undefined || field === null) return null;
    if (typeof field === "string") return field === "" ? null : field;
    problems.push(`${key} must be a string or null (got ${JSON.stringify(field)})`);
    return null;
  };
  const optionalDollars = (key: "resumedCostUsd" | "priorCostUsd" = "resumedCostUsd"): number | null => {
    const field = fields[key];
    if (field === undefined || field === null) return null;
    if (typeof field === "number" && Number.isFinite(field) && field >= 0) return field;
    problems.push(`${key} must be a number of dollars, 0 or more, or null (got ${JSON.stringify(field)})`);
    return null;
  };
  const turnsBefore = (): number => {
    const field = fields.priorTurns;
    if (field === undefined || field === null) return 0;
    if (typeof field === "number" && Number.isInteger(field) && field >= 0) return field;
    problems.push(`priorTurns must be a whole number, 0 or more (got ${JSON.stringify(field)})`);
    return 0;
  };
  const positive = (key: keyof typeof LAUNCH_DEFAULTS): number => {
    const field = fields[key];
    if (field === undefined || field === null) return LAUNCH_DEFAULTS[key];
    if (typeof field === "number" && Number.isInteger(field) && field > 0) return field;
    problems.push(`${key} must be a positive integer (got ${JSON.stringify(field)})`);
    return LAUNCH_DEFAULTS[key];
  };
  const launch: Launch = {
    v: 1,
    instance: text("instance"),
    preset: text("preset"),
    command: optionalText("command"),
    commandInput: fields.commandInput === "stream" ? "stream" : commandInputOf(fields.commandInput, problems),
    model: optionalText("model"),
    branch: text("branch"),
    base: text("base"),
    baseSha: optionalText("baseSha"),
    workdir: text("workdir"),
    promptFile: text("promptFile"),
    resumeSessionId: optionalText("resumeSessionId"),
    restartReason: optionalText("restartReason"),
    resumedCostUsd: optionalDollars(),
    priorTurns: turnsBefore(),
    priorCostUsd: optionalDollars("priorCostUsd"),
    tokenPrice: tokenPriceOf(fields.tokenPrice, problems),
    eventsMaxBytes: positive("eventsMaxBytes"),
    stopGraceMs: positive("stopGraceMs"),
    reportRetryMaxMs: positive("reportRetryMaxMs"),
  };
  return problems.length > 0 ? { ok: false, problems } : { ok: true, launch };
}

function commandInputOf(field: unknown, problems: string[]): "per-message" {
  if (field !== undefined && field !== null && field !== "per-message") problems.push(`commandInput must be "per-message" or "stream" (got ${JSON.stringify(field)})`);
  return "per-message";
}

function tokenPriceOf(field: unknown, problems: string[]): TokenPrice | null {
  if (field === undefined || field === null) return null;
  const price = field as { input?: unknown; output?: unknown };
  const rate = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value) && value >= 0;
  if (typeof field === "object" && rate(price.input) && rate(price.output)) return { input: price.input, output: price.output };
  problems.push(`tokenPrice must be {"input": <dollars>, "output": <dollars>} per million tokens, or null (got ${JSON.stringify(field)})`);
  return null;
}
