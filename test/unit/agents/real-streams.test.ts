import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FinalText } from "../../../src/core/agents/final-text.ts";
import type { AgentPreset } from "../../../src/core/agents/preset.ts";
import { claudePreset } from "../../../src/core/agents/presets/claude.ts";
import { codexPreset } from "../../../src/core/agents/presets/codex.ts";
import { geminiPreset } from "../../../src/core/agents/presets/gemini.ts";
import { opencodePreset } from "../../../src/core/agents/presets/opencode.ts";
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
