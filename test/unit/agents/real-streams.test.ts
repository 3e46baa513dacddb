import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FinalText } from "../../../src/core/agents/final-text.ts";
import type { AgentPreset } from "../../../src/core/agents/preset.ts";
import { claudePreset } from "../../../src/core/agents/presets/claude.ts";
import { codexPreset } from "../../../src/core/agents/presets/codex.ts";
import { geminiPreset } from "../../../src/core/agents/presets/gemini.ts";
import { opencodePreset } from "../../../src/core/agents/presets/opencode.ts";
import type { UsageLimit } from "../../../src/core/agents/usage-limit.ts";
import { nextUsageLimit } from "../../../src/worker/supervisor/usage-limit.ts";
import { drive, startInput } from "./drive.ts";
import { testWorkspace, type TestWorkspace } from "./workspace.ts";

/**
 * The streams the real CLIs printed (test/fixtures/real-streams, one turn: a
 * shell step that commits, then a closing answer) against the presets and
 * the stand-ins: the presets read them right, and each stand-in prints the
 * same kinds of line in the same order for the same kind of turn.
 */

const RECORDED: readonly { readonly cli: string; readonly preset: AgentPreset; readonly answer: string }[] = [
  { cli: "claude", preset: claudePreset, answer: "Committed the greeting." },
  { cli: "codex", preset: codexPreset, answer: "Committed the farewell." },
  { cli: "gemini", preset: geminiPreset, answer: "Committed the name." },
  { cli: "opencode", preset: opencodePreset, answer: 'Committed op."' },
];

function recordedLines(cli: string): string[] {
  return readFileSync(new URL(`../../fixtures/real-streams/${cli}.ndjson`, import.meta.url), "utf8").split("\n").filter((line) => line !== "");
}

function objectAt(value: unknown, key: string): Record<string, unknown> | undefined {
  const inner = (value as Record<string, unknown> | undefined)?.[key];
  return typeof inner === "object" && inner !== null && !Array.isArray(inner) ? (inner as Record<string, unknown>) : undefined;
}

/**
 * What kind of line it is, in every CLI's terms: its type and subtype, a
 * message's role, whether it is a chunk, the kind of item (codex) or part
 * (opencode) and why a step finished, and what a message's content holds.
 * Chunks in a row are one kind of line (how many a CLI sends is the model's).
 */
export function shapes(lines: readonly string[]): string[] {
  const kinds = lines.map((line) => {
    const value = JSON.parse(line) as Record<string, unknown>;
    const item = objectAt(value, "item");
    const part = objectAt(value, "part");
    const content = objectAt(value, "message")?.content;
    return JSON.stringify({
      type: value.type,
      subtype: value.subtype,
      role: value.role,
      delta: value.delta,
      item: item?.type,
      part: part?.type,
      reason: part?.reason,
      content: Array.isArray(content) ? content.map((entry) => (entry as Record<string, unknown> | null)?.type) : undefined,
    });
  });
  return kinds.filter((kind, index) => kind !== kinds[index - 1]);
}

describe("the presets reading the streams recorded from the real CLIs", () => {
  it.each(RECORDED)("$cli: a normal turn is one turn, no error, and the closing answer is the report's summary", ({ cli, preset, answer }) => {
    const finalText = new FinalText();
    let turns = 0;
    let isError = false;
    const events: string[] = [];
    for (const line of recordedLines(cli)) {
      const facts = preset.parseLine(line);
      finalText.take(facts);
      turns += facts.addTurns ?? 0;
      isError ||= facts.isError === true;
      events.push(...facts.events.map((event) => event.type));
    }
    expect(finalText.text).toBe(answer);
    expect(turns).toBe(1);
    expect(isError).toBe(false);
    // codex's "Model metadata … not found" item is a warning: nothing went wrong.
    expect(events).not.toContain("error");
  });

  it("gemini: the answer given in chunks is the last message's chunks put together", () => {
    const chunk = (content: string): string => JSON.stringify({ type: "message", role: "assistant", content, delta: true });
    const finalText = new FinalText();
    for (const line of [chunk("I will "), chunk("commit."), JSON.stringify({ type: "tool_use", tool_name: "run_shell_command", tool_id: "t1", parameters: {} }), chunk("Committed "), chunk("the name.")]) {
      finalText.take(geminiPreset.parseLine(line));
    }
    expect(finalText.text).toBe("Committed the name.");
  });
});

describe("each stand-in against the stream recorded from its real CLI", () => {
  let ws: TestWorkspace;
  beforeEach(() => (ws = testWorkspace()));
  afterEach(() => { ws.remove(); });

  it.each(RECORDED)("$cli: the stand-in prints the same kinds of line, in the same order, for a turn with a shell step and an answer", async ({ cli, preset }) => {
    const driven = await drive(preset, startInput({ prompt: "Add the greeting." }), { cwd: ws.cwd, env: ws.env });
    expect(driven.runs.map((run) => run.code)).toEqual([0]);
    expect(shapes(driven.lines)).toEqual(shapes(recordedLines(cli)));
  });
});

/** What a preset makes of a recorded stream: the usage limit the supervisor keeps, the API retries it shows, any error. */
function readStream(preset: AgentPreset, lines: readonly string[], stderr: readonly string[] = []): { usageLimit: UsageLimit | null; retries: string[]; errors: string[] } {
  let usageLimit: UsageLimit | null = null;
  const events: { type: string; text?: string }[] = [];
  for (const line of lines) {
    const facts = preset.parseLine(line);
    usageLimit = nextUsageLimit(usageLimit, facts);
    events.push(...facts.events);
  }
  for (const line of stderr) events.push(...(preset.parseStderrLine?.(line) ?? []));
  return { usageLimit, retries: events.filter((e) => e.type === "api-retry").map((e) => e.text ?? ""), errors: events.filter((e) => e.type === "error").map((e) => e.text ?? "") };
}

function recordedStderr(name: string): string[] {
  return readFileSync(new URL(`../../fixtures/real-streams/${name}.stderr`, import.meta.url), "utf8").split("\n").filter((line) => line !== "");
}

/** Each CLI's usage limit as the preset reads it: its kind, and its words. */
const RECORDED_LIMITS: readonly { readonly cli: string; readonly preset: AgentPreset; readonly limit: { readonly kind: string; readonly message: RegExp } }[] = [
  { cli: "claude", preset: claudePreset, limit: { kind: "five_hour", message: /^You've hit your 5-hour limit · resets \d{1,2}:\d\d[ap]m \(UTC\)$/ } },
  { cli: "codex", preset: codexPreset, limit: { kind: "usage_limit", message: /^You’ve hit your usage limit\. .* try again at \d{1,2}:\d\d [AP]M\.$/ } },
  { cli: "gemini", preset: geminiPreset, limit: { kind: "quota", message: /^\[API Error: You have exhausted your daily quota on this model\.\] Please wait/ } },
];

describe("the presets reading the usage limits and API retries recorded from the real CLIs", () => {
  it.each(RECORDED_LIMITS)("$cli: the usage limit it printed is read as one, in its words", ({ cli, preset, limit }) => {
    const { usageLimit } = readStream(preset, recordedLines(`${cli}-usage-limit`));
    expect(usageLimit).toMatchObject({ kind: limit.kind, message: expect.stringMatching(limit.message) as string });
    if (cli !== "claude") expect(usageLimit?.resetsAt).toBeNull();
  });

  it("claude: the reset is the rate_limit_event's resetsAt, kept through the result's words", () => {
    const lines = recordedLines("claude-usage-limit");
    const event = lines.map((line) => JSON.parse(line) as { type: string; rate_limit_info?: { resetsAt: number } }).find((value) => value.type === "rate_limit_event");
    const { usageLimit } = readStream(claudePreset, lines);
    expect(usageLimit?.resetsAt).toBe(new Date((event?.rate_limit_info?.resetsAt ?? 0) * 1000).toISOString());
    expect(usageLimit?.kind).toBe("five_hour");
  });

  it("claude: its api_retry line is an api-retry event with the status and the count", () => {
    expect(readStream(claudePreset, recordedLines("claude-api-retry"))).toEqual({ usageLimit: null, retries: ["API error 529, retry 1 of 2"], errors: [] });
  });

  it("codex: its \"Reconnecting... 1/5\" error event is an api-retry with the status, not an error of the turn", () => {
    expect(readStream(codexPreset, recordedLines("codex-api-retry"))).toEqual({ usageLimit: null, retries: ["API error 529, retry 1 of 5"], errors: [] });
  });

  it("gemini: the retry it says on stderr only is an api-retry event with the status", () => {
    expect(readStream(geminiPreset, recordedLines("gemini-api-retry"), recordedStderr("gemini-api-retry"))).toEqual({ usageLimit: null, retries: ["API error 500, retry 1"], errors: [] });
  });
});

describe("each stand-in's usage limit and API retries against the real CLI's", () => {
  let ws: TestWorkspace;
  beforeEach(() => (ws = testWorkspace()));
  afterEach(() => { ws.remove(); });

  it.each(RECORDED_LIMITS)("$cli: the stand-in's usage limit prints the same kinds of line, and the preset reads the same kind of limit", async ({ cli, preset, limit }) => {
    const driven = await drive(preset, startInput({ prompt: "Add the greeting. standin: usage-limit 3600" }), { cwd: ws.cwd, env: ws.env });
    expect(driven.runs.map((run) => run.code)).toEqual([cli === "gemini" ? 173 : 1]);
    expect(shapes(driven.lines)).toEqual(shapes(recordedLines(`${cli}-usage-limit`)));
    expect(readStream(preset, driven.lines).usageLimit).toMatchObject({ kind: limit.kind, message: expect.stringMatching(limit.message) as string });
  });

  it.each([
    { cli: "claude", preset: claudePreset, status: 529, expected: "API error 529, retry 1 of 10" },
    { cli: "codex", preset: codexPreset, status: 529, expected: "API error 529, retry 1 of 5" },
    { cli: "gemini", preset: geminiPreset, status: 500, expected: "API error 500, retry 1" },
  ])("$cli: the stand-in's API retry is read as the real one is", async ({ preset, status, expected }) => {
    const driven = await drive(preset, startInput({ prompt: `Add the greeting. standin: api-retry ${String(status)} 1` }), { cwd: ws.cwd, env: ws.env });
    expect(driven.runs.map((run) => run.code)).toEqual([0]);
    const stderr = driven.runs.flatMap((run) => run.stderr.split("\n")).filter((line) => line !== "");
    expect(readStream(preset, driven.lines, stderr)).toMatchObject({ usageLimit: null, retries: [expected], errors: [] });
  });
});
