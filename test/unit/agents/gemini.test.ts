import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { geminiPreset } from "../../../src/core/agents/presets/gemini.ts";
import { drive, recorded, startInput } from "./drive.ts";
import { testWorkspace, type TestWorkspace } from "./workspace.ts";

let ws: TestWorkspace;
beforeEach(() => (ws = testWorkspace()));
afterEach(() => { ws.remove(); });

const OPTIONS = ["--output-format", "stream-json", "--approval-mode", "yolo"];

describe("the gemini preset against the Gemini CLI stand-in", () => {
  it("runs headless with stream-json in a workspace it trusts (0.61.0 exits 55 otherwise), then resumes the session by id for a message", async () => {
    const input = startInput({ model: "gemini-2.5-pro", prompt: "-x marks the spot" });
    const result = await drive(geminiPreset, input, { cwd: ws.cwd, env: ws.env, messages: ["Add a test."] });

    expect(result.runs.map((run) => run.code)).toEqual([0, 0]);
    expect(result.turns).toBe(2);
    expect(result.costUsd).toBeNull();
    expect(result.isError).toBe(false);
    // 0.61.0 streams its answer only in chunks: each is a text event, and the last message's chunks are the final text.
    expect(result.finalText).toBe("Done: Add a test. (resumed after 1 turns)");
    const texts = result.events.filter((event) => event.type === "text").map((event) => event.text);
    expect(texts.slice(-2).join("")).toBe("Done: Add a test. (resumed after 1 turns)");

    const [first, second] = recorded(ws.log);
    expect(first?.argv).toEqual([...OPTIONS, "--model", "gemini-2.5-pro", "--prompt=-x marks the spot"]);
    expect(second?.argv).toEqual([...OPTIONS, "--model", "gemini-2.5-pro", "--resume", result.sessionId, "--prompt=Add a test."]);
    expect(first?.stdin).toBe("");
    expect([first?.env.GEMINI_CLI_TRUST_WORKSPACE, second?.env.GEMINI_CLI_TRUST_WORKSPACE]).toEqual(["true", "true"]);
  });

  it("resumes the latest session when the id is unknown", () => {
    const followUp = geminiPreset.followUp("again", { sessionId: null, input: startInput() });
    expect(followUp.kind === "invoke" && followUp.invocation.argv).toEqual(["gemini", ...OPTIONS, "--resume", "latest", "--prompt=again"]);
  });

  it("reads a failed result and a whole (not chunked) assistant message", () => {
    expect(geminiPreset.parseLine(JSON.stringify({ type: "result", status: "error", error: { type: "API", message: "quota" } }))).toMatchObject({
      turnEnded: true,
      isError: true,
      events: [{ type: "result", text: "quota" }],
    });
    expect(geminiPreset.parseLine(JSON.stringify({ type: "message", role: "assistant", content: "All done." }))).toMatchObject({ finalText: "All done." });
    expect(geminiPreset.parseLine(JSON.stringify({ type: "message", role: "user", content: "hi" }))).toEqual({ events: [] });
  });
});
