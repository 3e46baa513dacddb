import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { claudePreset } from "../../../src/core/agents/presets/claude.ts";
import { codexPreset } from "../../../src/core/agents/presets/codex.ts";
import { geminiPreset } from "../../../src/core/agents/presets/gemini.ts";
import { drive, startInput } from "./drive.ts";
import { testWorkspace, type TestWorkspace } from "./workspace.ts";

let ws: TestWorkspace;
beforeEach(() => (ws = testWorkspace()));
afterEach(() => { ws.remove(); });

// Each stand-in hits its account's limit the way its CLI was seen to (test/fixtures/agents/standins), and the preset reads it.
describe("a usage limit, as each preset reads its CLI's signal", () => {
  it("claude: the rate_limit_event's reset and kind, then the result's words; exit 1", async () => {
    const before = Math.floor(Date.now() / 1000);
    const result = await drive(claudePreset, startInput({ prompt: "Fix it. standin: usage-limit 3600" }), { cwd: ws.cwd, env: ws.env });
    expect(result.runs).toEqual([{ code: 1, signal: null, stderr: "" }]);
    expect(result.usageLimit).toEqual({ resetsAt: null, kind: null, message: expect.stringMatching(/^You've hit your 5-hour limit · resets/) as string });
    const event = result.events.find((e) => e.type === "usage-limit");
    const resetsAt = Date.parse((event?.data as { resetsAt: string }).resetsAt) / 1000;
    expect(resetsAt).toBeGreaterThanOrEqual(before + 3600);
    expect(event?.text).toContain("usage limit (five_hour) reached; resets at");
  });

  it("claude: a rate_limit_event that only warns is no limit", () => {
    const facts = claudePreset.parseLine(JSON.stringify({ type: "rate_limit_event", rate_limit_info: { status: "allowed_warning", resetsAt: 1893456000, rateLimitType: "seven_day" } }));
    expect(facts.usageLimit).toBeUndefined();
    const rejected = claudePreset.parseLine(JSON.stringify({ type: "rate_limit_event", status: "rejected", resetsAt: 1893456000, rateLimitType: "five_hour" }));
    expect(rejected.usageLimit).toEqual({ resetsAt: "2030-01-01T00:00:00.000Z", kind: "five_hour", message: "usage limit (five_hour) reached; resets at 2030-01-01T00:00:00.000Z" });
  });

  it("codex: the error and turn.failed \"You’ve hit your usage limit\" (a typographic apostrophe); exit 1", async () => {
    const result = await drive(codexPreset, startInput({ prompt: "Fix it. standin: usage-limit 3600" }), { cwd: ws.cwd, env: ws.env });
    expect(result.runs.map((run) => run.code)).toEqual([1]);
    expect(result.usageLimit).toMatchObject({ resetsAt: null, kind: "usage_limit", message: expect.stringMatching(/^You’ve hit your usage limit\./) as string });
  });

  it("gemini: a result with the daily quota's words; exit 173", async () => {
    const result = await drive(geminiPreset, startInput({ prompt: "Fix it. standin: usage-limit 3600" }), { cwd: ws.cwd, env: ws.env });
    expect(result.runs.map((run) => run.code)).toEqual([173]);
    expect(result.usageLimit).toMatchObject({ resetsAt: null, kind: "quota", message: expect.stringContaining("You have exhausted your daily quota") as string });
  });

  it("an ordinary API error is no usage limit", () => {
    const facts = claudePreset.parseLine(JSON.stringify({ type: "result", subtype: "success", is_error: true, api_error_status: 500, result: "API Error: 500 Internal Server Error" }));
    expect(facts.isError).toBe(true);
    expect(facts.usageLimit).toBeUndefined();
  });
});
