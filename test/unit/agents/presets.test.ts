import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PRESETS, presetNamed } from "../../../src/core/agents/presets/index.ts";
import { agentPresets } from "../../../src/core/config/schema.ts";
import { FORGE_TOKEN_NAMES } from "../../../src/core/secrets/forge-token.ts";
import { startInput } from "./drive.ts";

const presets = Object.values(PRESETS);

describe("the preset registry", () => {
  it("has one preset for every name the configuration accepts, under that name", () => {
    expect(Object.keys(PRESETS).sort()).toEqual([...agentPresets].sort());
    for (const name of agentPresets) expect(presetNamed(name)?.name).toBe(name);
    expect(presetNamed("claud")).toBeNull();
    expect(presetNamed("toString")).toBeNull();
  });

  it.each(presets.map((preset) => [preset.name, preset] as const))("%s starts its own executable and suggests no forge token", (_name, preset) => {
    const invocation = preset.start(startInput({ command: "run-agent" }));
    expect(path.basename(invocation.argv[0] ?? "")).toBe(preset.executable);
    expect(preset.credentialEnv.filter((name) => FORGE_TOKEN_NAMES.includes(name))).toEqual([]);
    for (const name of Object.keys(invocation.env ?? {})) expect(FORGE_TOKEN_NAMES).not.toContain(name);
    // Only a preset whose session outlives its process can be told to close stdin to finish.
    if (preset.closeStdinToFinish) expect(preset.keepsSession && invocation.stdin.kind === "stream").toBe(true);
  });

  it.each(presets.map((preset) => [preset.name, preset] as const))("%s reads any line without throwing", (_name, preset) => {
    const jsonish = fc.oneof(
      fc.string(),
      fc.json(),
      fc.record({ type: fc.constantFrom("result", "assistant", "system", "item.completed", "turn.completed", "init", "message", "text", "step_finish", "error", "idle"), extra: fc.anything() }).map((value) => JSON.stringify(value)),
    );
    fc.assert(
      fc.property(jsonish, (line) => {
        const facts = preset.parseLine(line);
        expect(Array.isArray(facts.events)).toBe(true);
      }),
      { numRuns: 300 },
    );
    expect(preset.parseLine("")).toEqual({ events: [] });
  });
});

describe("what each preset reads from its CLI's lines", () => {
  it("claude: the init's session, assistant text and tools, and a result's turn, cost and final text", () => {
    const { claude } = PRESETS;
    expect(claude.parseLine('{"type":"system","subtype":"init","session_id":"s1","model":"m"}')).toMatchObject({ sessionId: "s1" });
    expect(claude.parseLine('{"type":"assistant","session_id":"s1","message":{"content":[{"type":"text","text":"hi"},{"type":"tool_use","name":"Edit","input":{"file":"a"}}]}}')).toEqual({
      events: [{ type: "text", text: "hi" }, { type: "tool", text: "Edit", data: { file: "a" } }],
      sessionId: "s1",
    });
    expect(claude.parseLine('{"type":"result","subtype":"error_max_turns","is_error":false,"num_turns":9,"session_id":"s1","total_cost_usd":1.5}')).toMatchObject({
      turnEnded: true,
      addTurns: 1,
      costUsd: 1.5,
      isError: true,
    });
    expect(claude.parseLine("a warning that is not JSON")).toEqual({ events: [{ type: "text", text: "a warning that is not JSON" }] });
  });

  it("codex: the thread id, the first releases' item_type and assistant_message, failures", () => {
    const { codex } = PRESETS;
    expect(codex.parseLine('{"type":"thread.started","thread_id":"t1"}')).toMatchObject({ sessionId: "t1" });
    expect(codex.parseLine('{"type":"item.completed","item":{"id":"i","item_type":"assistant_message","text":"ok"}}')).toEqual({ events: [{ type: "text", text: "ok" }], finalText: "ok" });
    expect(codex.parseLine('{"type":"turn.failed","error":{"message":"boom"}}')).toEqual({ events: [{ type: "error", text: "boom" }], turnEnded: true, addTurns: 1, isError: true });
    expect(codex.parseLine('{"type":"error","message":"stream lost"}')).toMatchObject({ isError: true });
  });

  it("scripted: idle ends a turn; the result counts one more but is not a turn end (the agent is exiting)", () => {
    const { scripted } = PRESETS;
    expect(scripted.parseLine('{"type":"idle","num_turns":1}')).toMatchObject({ turnEnded: true, addTurns: 1 });
    const result = scripted.parseLine('{"type":"result","session_id":"s","num_turns":2,"total_cost_usd":0,"result":"done","is_error":false}');
    expect(result).toMatchObject({ addTurns: 1, costUsd: 0, finalText: "done", isError: false });
    expect(result.turnEnded).toBeUndefined();
  });
});
