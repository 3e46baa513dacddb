import { spawn } from "node:child_process";
import path from "node:path";
import { scriptedInput } from "../../../src/core/agents/presets/scripted.ts";
import { FIXTURES } from "./drive.ts";

export interface ScriptedRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Every stdout line, parsed. */
  readonly events: readonly Record<string, unknown>[];
  readonly stderr: string;
}

/**
 * Runs the scripted agent as a process with these stdin lines written at
 * once (the prompt first), then stdin left open or closed; for tests that
 * drive the process directly rather than through the preset.
 */
export function runScripted(
  prompt: string | null,
  options: { cwd: string; env: Readonly<Record<string, string | undefined>>; args?: readonly string[]; messages?: readonly string[]; closeStdin?: boolean },
): Promise<ScriptedRun> {
  const child = spawn(process.execPath, [path.join(FIXTURES, "scripted-agent.ts"), ...(options.args ?? [])], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  child.stdin.on("error", () => undefined);
  const lines = [...(prompt === null ? [] : [scriptedInput("prompt", prompt)]), ...(options.messages ?? []).map((text) => scriptedInput("message", text))];
  // One write: every line is queued before the agent runs its first instruction.
  child.stdin.write(lines.map((line) => `${line}\n`).join(""));
  if (options.closeStdin ?? true) child.stdin.end();
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const events = stdout
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      resolve({ code, signal, events, stderr });
    });
  });
}

export function ofType(run: ScriptedRun, type: string): Record<string, unknown>[] {
  return run.events.filter((event) => event.type === type);
}
