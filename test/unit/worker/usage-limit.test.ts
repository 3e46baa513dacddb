import { describe, expect, it } from "vitest";
import { claudePreset } from "../../../src/core/agents/presets/claude.ts";
import type { UsageLimit } from "../../../src/core/agents/usage-limit.ts";
import { nextUsageLimit } from "../../../src/worker/supervisor/usage-limit.ts";

/** The lines Claude Code 2.1.332 printed on a subscription's limit, in order, read the way the supervisor reads them. */
function afterLines(lines: readonly object[]): UsageLimit | null {
  return lines.reduce<UsageLimit | null>((last, line) => nextUsageLimit(last, claudePreset.parseLine(JSON.stringify(line))), null);
}

const rejected = { type: "rate_limit_event", rate_limit_info: { status: "rejected", resetsAt: 1893456000, rateLimitType: "five_hour" }, session_id: "s1" };
const limitResult = { type: "result", subtype: "success", is_error: true, session_id: "s1", result: "You've hit your 5-hour limit · resets 12am (UTC)" };
const goodResult = { type: "result", subtype: "success", is_error: false, session_id: "s1", result: "done" };

describe("the usage limit a supervisor puts in its report", () => {
  it("keeps the reset of the rate_limit_event and the words of the result after it", () => {
    expect(afterLines([rejected, limitResult])).toEqual({ resetsAt: "2030-01-01T00:00:00.000Z", kind: "five_hour", message: "You've hit your 5-hour limit · resets 12am (UTC)" });
  });

  it("forgets a limit once a later turn ends well (the account works again)", () => {
    expect(afterLines([rejected, limitResult, goodResult])).toBeNull();
  });
});
