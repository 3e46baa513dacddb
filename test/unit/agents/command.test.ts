import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { commandPreset } from "../../../src/core/agents/presets/command.ts";
import { InternalError } from "../../../src/core/errors.ts";
import { drive, startInput } from "./drive.ts";
import { testWorkspace, type TestWorkspace } from "./workspace.ts";

let ws: TestWorkspace;
beforeEach(() => (ws = testWorkspace()));
afterEach(() => { ws.remove(); });

describe("the command preset", () => {
  it("runs agent.command with /bin/sh -c, the prompt on stdin; a message starts it again with the message on stdin", async () => {
    const command = 'echo "read: $(cat)"; echo "file=$CSPACE_PROMPT_FILE follow-up=$CSPACE_FOLLOW_UP"';
    const result = await drive(commandPreset, startInput({ command, prompt: "Fix issue 12" }), { cwd: ws.cwd, env: ws.env, messages: ["and the docs"] });

    expect(result.runs.map((run) => run.code)).toEqual([0, 0]);
    expect(result.events).toEqual([
      { type: "text", text: "read: Fix issue 12" },
      { type: "text", text: "file=/run/cspace/prompt.md follow-up=0" },
      { type: "text", text: "read: and the docs" },
      { type: "text", text: "file=/run/cspace/prompt.md follow-up=1" },
    ]);
    expect(result).toMatchObject({ sessionId: null, turns: 0, costUsd: null, finalText: null });
  });

  it("treats a missing agent.command as a bug upstream (config requires it)", () => {
    expect(() => commandPreset.start(startInput())).toThrow(InternalError);
  });
});
