import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { aiderPreset } from "../../../src/core/agents/presets/aider.ts";
import { drive, recorded, startInput } from "./drive.ts";
import { testWorkspace, type TestWorkspace } from "./workspace.ts";

let ws: TestWorkspace;
beforeEach(() => (ws = testWorkspace()));
afterEach(() => { ws.remove(); });

const OPTIONS = ["--yes-always", "--no-pretty", "--no-stream", "--no-check-update", "--no-show-model-warnings", "--no-gitignore", "--no-analytics"];

describe("the aider preset against the aider stand-in", () => {
  it("runs `aider --message`, keeps auto-commits, reads cost lines, and continues the chat history for a message", async () => {
    const input = startInput({ model: "sonnet", prompt: "-m is not a flag here" });
    const result = await drive(aiderPreset, input, { cwd: ws.cwd, env: ws.env, messages: ["Also update the docs."] });

    expect(result.runs.map((run) => run.code)).toEqual([0, 0]);
    expect(result.sessionId).toBeNull();
    expect(result.turns).toBe(2);
    expect(result.costUsd).toBe(0.0084);
    expect(result.finalText).toBeNull();
    expect(result.events.filter((event) => event.type === "commit")).toHaveLength(2);
    expect(result.events.map((event) => event.text)).toContain("Done: Also update the docs. (continuing after 1 messages)");
    expect(ws.git("log", "--format=%s", "main")).toBe("feat: Also update the docs.\nfeat: -m is not a flag here\nstart");

    const [first, second] = recorded(ws.log);
    expect(first?.argv).toEqual([...OPTIONS, "--model", "sonnet", "--message=-m is not a flag here"]);
    expect(second?.argv).toEqual([...OPTIONS, "--model", "sonnet", "--restore-chat-history", "--message=Also update the docs."]);
  });

  it("reads aider's cost line as this process's running total", () => {
    expect(aiderPreset.parseLine("Tokens: 12k sent, 1.2k received. Cost: $0.04 message, $0.12 session.")).toMatchObject({ costUsd: 0.12, addTurns: 1 });
    expect(aiderPreset.parseLine("Tokens: 3 sent, 1 received.")).toEqual({ events: [{ type: "text", text: "Tokens: 3 sent, 1 received." }] });
  });
});
