import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { opencodePreset } from "../../../src/core/agents/presets/opencode.ts";
import { drive, recorded, startInput } from "./drive.ts";
import { testWorkspace, type TestWorkspace } from "./workspace.ts";

let ws: TestWorkspace;
beforeEach(() => (ws = testWorkspace()));
afterEach(() => { ws.remove(); });

describe("the opencode preset against the opencode stand-in", () => {
  it("runs `opencode run --format json`, adds up step costs, and continues the session for a message", async () => {
    const input = startInput({ model: "anthropic/claude-sonnet-4", prompt: "--version is wrong" });
    const result = await drive(opencodePreset, input, { cwd: ws.cwd, env: ws.env, messages: ["Now the changelog."] });

    expect(result.runs.map((run) => run.code)).toEqual([0, 0]);
    expect(result.sessionId).toMatch(/^ses_/);
    expect(result.turns).toBe(2);
    expect(result.costUsd).toBe(0.01);
    expect(result.finalText).toBe("Done: Now the changelog. (resumed after 1 turns)");
    expect(result.events.map((event) => event.type)).toEqual(["tool", "text", "turn", "tool", "text", "turn"]);

    const [first, second] = recorded(ws.log);
    expect(first?.argv).toEqual(["run", "--format", "json", "--model", "anthropic/claude-sonnet-4"]);
    expect(second?.argv).toEqual(["run", "--format", "json", "--model", "anthropic/claude-sonnet-4", "--session", result.sessionId]);
    expect([first?.stdin, second?.stdin]).toEqual(["--version is wrong", "Now the changelog."]);
    expect(JSON.parse(first?.env.OPENCODE_PERMISSION ?? "null")).toEqual({ "*": "allow" });
  });

  it("sends the model the rendered prompt byte for byte: quotes, spaces and newlines as written, not re-quoted by the CLI", async () => {
    const prompt = '# Issue 7: "Fix" the \'quoting\'\n\n  - keep   spaces and a \\"backslash\\"\n--not-a-flag\n';
    await drive(opencodePreset, startInput({ prompt }), { cwd: ws.cwd, env: ws.env });
    expect((recorded(ws.log)[0] as { prompt?: string } | undefined)?.prompt).toBe(prompt);
  });

  it("continues the last session when the id is unknown, and reads error events", () => {
    const followUp = opencodePreset.followUp("again", { sessionId: null, input: startInput() });
    expect(followUp.kind === "invoke" && followUp.invocation.argv).toEqual(["opencode", "run", "--format", "json", "--continue"]);
    const error = { type: "error", sessionID: "ses_1", error: { name: "APIError", data: { message: "rate limited" } } };
    expect(opencodePreset.parseLine(JSON.stringify(error))).toEqual({ events: [{ type: "error", text: "rate limited" }], sessionId: "ses_1", isError: true });
  });
});
