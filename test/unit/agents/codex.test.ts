import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { codexPreset } from "../../../src/core/agents/presets/codex.ts";
import { drive, recorded, startInput } from "./drive.ts";
import { testWorkspace, type TestWorkspace } from "./workspace.ts";

let ws: TestWorkspace;
beforeEach(() => (ws = testWorkspace()));
afterEach(() => { ws.remove(); });

const OPTIONS = ["--json", "--dangerously-bypass-approvals-and-sandbox"];

/** How the real-CLI lane points Codex 0.171.0 at its model server (the README says so too). */
const CUSTOM_PROVIDER = `model_provider = "mock"

[model_providers.mock]
name = "mock"
base_url = "http://127.0.0.1:8790/v1"
wire_api = "responses"
supports_websockets = false
`;

describe("the codex preset against the Codex CLI stand-in", () => {
  it("goes to a test server only through a custom provider in $CODEX_HOME/config.toml: OPENAI_BASE_URL does not move the default provider", async () => {
    const codexHome = path.join(ws.root, "codex-home");
    mkdirSync(codexHome);
    const env = { ...ws.env, CODEX_HOME: codexHome, OPENAI_BASE_URL: "http://127.0.0.1:9/v1" };
    await drive(codexPreset, startInput(), { cwd: ws.cwd, env });
    writeFileSync(path.join(codexHome, "config.toml"), CUSTOM_PROVIDER);
    await drive(codexPreset, startInput(), { cwd: ws.cwd, env });
    expect(recorded(ws.log).map((run) => (run as { endpoint?: string }).endpoint)).toEqual(["wss://api.openai.com/v1/responses", "http://127.0.0.1:8790/v1"]);
  });

  it("runs `codex exec --json` with the prompt on stdin, then resumes the thread for a message", async () => {
    const input = startInput({ model: "gpt-5-codex", prompt: "--fix issue 12\nwith a second line" });
    const result = await drive(codexPreset, input, { cwd: ws.cwd, env: ws.env, messages: ["Rebase onto main."] });

    expect(result.runs.map((run) => run.code)).toEqual([0, 0]);
    expect(result.sessionId).toMatch(/^[0-9a-f]{8}-/);
    expect(result.turns).toBe(2);
    expect(result.costUsd).toBeNull();
    expect(result.finalText).toBe("Done: Rebase onto main. (resumed after 1 turns)");
    expect(result.events.map((event) => event.type)).toEqual(["started", "warning", "tool", "text", "turn", "started", "warning", "tool", "text", "turn"]);

    const [first, second] = recorded(ws.log);
    expect(first?.argv).toEqual(["exec", ...OPTIONS, "--model", "gpt-5-codex", "-"]);
    // A prompt that starts with "-" is safe on stdin.
    expect(first?.stdin).toBe("--fix issue 12\nwith a second line");
    expect(second?.argv).toEqual(["exec", ...OPTIONS, "--model", "gpt-5-codex", "resume", result.sessionId, "-"]);
    expect(second?.stdin).toBe("Rebase onto main.");
  });

  it("resumes the last session when the id is unknown", () => {
    const followUp = codexPreset.followUp("again", { sessionId: null, input: startInput() });
    expect(followUp).toEqual({ kind: "invoke", invocation: { argv: ["codex", "exec", ...OPTIONS, "resume", "--last", "-"], stdin: { kind: "text", text: "again" } } });
  });

  it("restarts on the recorded session, and reports an unknown one as the CLI does", async () => {
    const first = await drive(codexPreset, startInput(), { cwd: ws.cwd, env: ws.env });
    const again = await drive(codexPreset, startInput({ resumeSessionId: first.sessionId }), { cwd: ws.cwd, env: ws.env });
    expect(again.sessionId).toBe(first.sessionId);
    const unknown = await drive(codexPreset, startInput({ resumeSessionId: "nope" }), { cwd: ws.cwd, env: ws.env });
    expect(unknown.runs[0]?.code).toBe(1);
  });
});
