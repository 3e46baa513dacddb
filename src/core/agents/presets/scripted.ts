import { WORKER_BUNDLE_DIR } from "../../messaging/layout.ts";
import type { AgentPreset, LineFacts } from "../preset.ts";
import { jsonObject, numberAt, plainText, stringAt, NOTHING } from "./json-line.ts";

/**
 * The deterministic scripted agent (src/worker/agents/scripted.ts), shipped
 * in the worker bundle for tests, benchmarks and the demo. It keeps its
 * session: stdin stays open, its first line is the prompt and every further
 * line a message; it ends by itself once its instructions are done.
 *
 * stdin, one JSON object per line:
 *   {"type":"prompt","text":"…"}     the first line
 *   {"type":"message","text":"…"}    each message, at any time
 * stdout, one JSON object per line (ScriptedEvent below), ending with a
 * `result` line unless it crashed on purpose.
 */
export const scriptedPreset: AgentPreset = {
  name: "scripted",
  executable: "node",
  // Part of the worker bundle cspace copies into every container.
  npmPackage: null,
  resumable: false,
  keepsSession: true,
  credentialEnv: [],
  networkHosts: [],
  closeStdinToFinish: false,
  start: (input) => ({
    argv: ["node", `${WORKER_BUNDLE_DIR}/worker.cjs`, "scripted"],
    stdin: { kind: "stream", lines: [scriptedInput("prompt", input.prompt)] },
  }),
  followUp: (text) => ({ kind: "stdin", line: scriptedInput("message", text) }),
  parseLine: parseScriptedLine,
};

export type ScriptedInputType = "prompt" | "message";

/** One line of the scripted agent's stdin. */
export function scriptedInput(type: ScriptedInputType, text: string): string {
  return JSON.stringify({ type, text });
}

/** What the scripted agent prints, one per line. */
export type ScriptedEvent =
  | { readonly type: "init"; readonly session_id: string }
  | { readonly type: "text"; readonly text: string }
  /** An instruction about to run, as written after `cspace-script:`. */
  | { readonly type: "step"; readonly text: string }
  | { readonly type: "commit"; readonly sha: string; readonly path: string }
  /** A message received, as it arrived. */
  | { readonly type: "message"; readonly text: string }
  /** Waiting for a message: the turn so far has ended (the only line that says so). */
  | { readonly type: "idle"; readonly num_turns: number }
  | { readonly type: "error"; readonly text: string }
  | {
      readonly type: "result";
      readonly session_id: string;
      readonly num_turns: number;
      readonly total_cost_usd: 0;
      readonly result: string;
      readonly is_error: boolean;
    };

export function parseScriptedLine(line: string): LineFacts {
  const event = jsonObject(line);
  if (event === null) return plainText(line);
  const text = stringAt(event, "text") ?? "";
  switch (stringAt(event, "type") ?? "") {
    case "init": {
      const sessionId = stringAt(event, "session_id");
      return sessionId === undefined ? NOTHING : { events: [{ type: "started", text: `session ${sessionId}` }], sessionId };
    }
    case "text":
      return { events: [{ type: "text", text }] };
    case "step":
      return { events: [{ type: "tool", text }] };
    case "commit":
      return { events: [{ type: "commit", text: `${stringAt(event, "sha") ?? "?"} ${stringAt(event, "path") ?? ""}` }] };
    case "message":
      return { events: [{ type: "message", text }] };
    case "idle":
      return { events: [{ type: "turn", text: "waiting for a message" }], turnEnded: true, addTurns: 1 };
    case "error":
      return { events: [{ type: "error", text }] };
    case "result": {
      const result = stringAt(event, "result") ?? "";
      // Not a turn end: the agent is exiting and takes no more messages; one
      // sent now waits for the exit and starts a new run.
      return {
        events: [{ type: "result", text: result, data: { numTurns: numberAt(event, "num_turns") } }],
        addTurns: 1,
        costUsd: 0,
        finalText: result,
        isError: event.is_error === true,
      };
    }
    default:
      return NOTHING;
  }
}
