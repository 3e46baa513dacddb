import type { LineFacts } from "../../core/agents/preset.ts";
import type { UsageLimit } from "../../core/agents/usage-limit.ts";

/**
 * Claude says a limit twice (a `rate_limit_event` with the reset time, then a
 * result with the words): the time of the first is kept. A turn that ends
 * well afterwards means the account works again.
 */
export function nextUsageLimit(last: UsageLimit | null, facts: LineFacts): UsageLimit | null {
  const limit = facts.usageLimit;
  if (limit !== undefined) return { resetsAt: limit.resetsAt ?? last?.resetsAt ?? null, kind: limit.kind ?? last?.kind ?? null, message: limit.message };
  return facts.turnEnded === true && facts.isError !== true ? null : last;
}

