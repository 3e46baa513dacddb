/**
 * An agent's own word that its account hit a usage limit (a subscription's
 * 5-hour or weekly window, a daily quota): not a failure of the work, but a
 * state of the account that ends at a known (or guessed) time. Each preset
 * reads its CLI's signal into this; the supervisor puts the last one of a run
 * into the report, and the coordinator parks the account until it resets.
 */
export interface UsageLimit {
  /** When the agent says the limit resets (ISO 8601); null when it does not say. */
  readonly resetsAt: string | null;
  /** The agent's name for the limit (`five_hour`, `seven_day`, `daily_quota`, `usage_limit`); null when it gives none. */
  readonly kind: string | null;
  /** The agent's message, one line, for the log and the report. */
  readonly message: string;
}

/**
 * Messages the CLIs print when an account's limit is reached, as seen in
 * their releases: Claude Code "You've hit your 5-hour limit · resets …"
 * (also "Claude AI usage limit reached|<epoch>"), Codex "You’ve hit your
 * usage limit. … try again at …" (0.171.0 writes a typographic apostrophe),
 * Gemini CLI "You have exhausted your daily quota on this model." Plain rate
 * limits (HTTP 429 retried by the CLI itself) are not usage limits and are
 * not matched.
 */
const LIMIT_TEXT = /you['’]ve hit your .*limit|usage limit reached|you have exhausted your (daily )?quota/i;

export function isUsageLimitText(text: string): boolean {
  return LIMIT_TEXT.test(text);
}

/** Epoch seconds (Claude's `resetsAt`, "usage limit reached|<epoch>") as ISO 8601; null when it is no time. */
export function epochSecondsToIso(seconds: number | undefined): string | null {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds <= 0) return null;
  const ms = seconds * 1000;
  return Number.isNaN(new Date(ms).getTime()) ? null : new Date(ms).toISOString();
}

/** The message as one bounded line: it comes from the agent and ends up in the log. */
export function limitMessage(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
