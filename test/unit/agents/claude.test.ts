import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { claudePreset, claudeUserTurn } from "../../../src/core/agents/presets/claude.ts";
import { drive, recorded, startInput } from "./drive.ts";
import { testWorkspace, type TestWorkspace } from "./workspace.ts";

let ws: TestWorkspace;
beforeEach(() => (ws = testWorkspace()));
afterEach(() => { ws.remove(); });

describe("the claude preset against the Claude Code stand-in", () => {
  it("keeps one stream-json session: the prompt and each message are user turns on stdin", async () => {
    const input = startInput({ model: "claude-opus-4-1" });
    const result = await drive(claudePreset, input, { cwd: ws.cwd, env: ws.env, messages: ["Rebase onto the latest feature/login."] });

    expect(result.runs).toEqual([{ code: 0, signal: null, stderr: "" }]);
    expect(result.sessionId).toMatch(/^[0-9a-f]{8}-[0-9a-f-]{27}$/);
    expect(result.turns).toBe(2);
    expect(result.costUsd).toBe(0.025);
    expect(result.finalText).toBe("Done: Rebase onto the latest feature/login.");
    expect(result.isError).toBe(false);
    // Like the real CLI, `system/init` comes at every turn (the supervisor shows it once).
    expect(result.events.map((event) => event.type)).toEqual(["started", "tool", "text", "result", "started", "tool", "text", "result"]);

    const [run] = recorded(ws.log);
    expect(run?.argv).toEqual([
      "-p", "--output-format", "stream-json", "--input-format", "stream-json", "--verbose",
      "--dangerously-skip-permissions", "--model", "claude-opus-4-1",
    ]);
    expect(run?.stdin).toBe(`${claudeUserTurn("Fix issue 12")}\n${claudeUserTurn("Rebase onto the latest feature/login.")}\n`);
    expect(run?.env.IS_SANDBOX).toBe("1");
  });

  it("resumes the session by id in a new process after a restart", async () => {
    const first = await drive(claudePreset, startInput(), { cwd: ws.cwd, env: ws.env });
    const again = await drive(claudePreset, startInput({ prompt: "Continue: the agent was restarted", resumeSessionId: first.sessionId }), { cwd: ws.cwd, env: ws.env });

    expect(again.sessionId).toBe(first.sessionId);
    expect(again.finalText).toBe("Done: Continue: the agent was restarted (resumed after 1 turns)");
    expect(recorded(ws.log)[1]?.argv.slice(-2)).toEqual(["--resume", first.sessionId]);
  });

  it("reports an unknown session as the CLI does: exit 1 and its message", async () => {
    const result = await drive(claudePreset, startInput({ resumeSessionId: "00000000-0000-0000-0000-000000000000" }), { cwd: ws.cwd, env: ws.env });
    expect(result.runs[0]?.code).toBe(1);
    expect(result.runs[0]?.stderr).toMatch(/No conversation found with session ID/);
  });

  it("does what a turn asks of the workspace: each 'standin: commit' line is a commit, as the agent's contract wants", async () => {
    const result = await drive(claudePreset, startInput({ prompt: "Add the greeting.\nstandin: commit greeting.txt hello there" }), { cwd: ws.cwd, env: ws.env });
    expect(result.runs[0]?.code).toBe(0);
    expect(ws.git("log", "-1", "--format=%s")).toBe("standin: greeting.txt");
    expect(ws.git("show", "HEAD:greeting.txt")).toBe("hello there");
  });

  it("marks an API error result, and exits 1 after it as the CLI does", async () => {
    const result = await drive(claudePreset, startInput({ prompt: "standin: error" }), { cwd: ws.cwd, env: ws.env });
    expect(result.isError).toBe(true);
    expect(result.finalText).toMatch(/^API Error: 500/);
    expect(result.turns).toBe(1);
    expect(result.runs[0]?.code).toBe(1);
  });

  it("counts a resumed session's cost once: the running total carries over --resume, each result's own share does not", async () => {
    const first = await drive(claudePreset, startInput(), { cwd: ws.cwd, env: ws.env });
    const again = await drive(claudePreset, startInput({ prompt: "Go on", resumeSessionId: first.sessionId }), { cwd: ws.cwd, env: ws.env, messages: ["And then this"] });
    expect(first.costUsd).toBe(0.0125);
    expect(again.costUsd).toBe(0.025);
  });
});
