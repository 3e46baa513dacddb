import type { AgentPreset, Invocation, LineFacts, StartInput } from "../preset.ts";
import { jsonObject, modelFlag, numberAt, objectAt, plainText, stringAt, NOTHING } from "./json-line.ts";

/**
 * opencode, non-interactive: `opencode run --format json` with the message
 * on stdin runs one turn and exits; a follow-up is a new process with `--session <id>`
 * (or `--continue`, the last session, when the id is unknown). The model is
 * "provider/model". stdout is JSONL, each event carrying `sessionID` and a
 * `part`: `step_start`, `text` (a finished text part), `tool_use`
 * (part.tool, part.state), `step_finish` (part.cost in dollars and
 * part.tokens for that step; part.reason "tool-calls" while the turn goes
 * on, "stop" at its end) and `error`.
 *
 * OPENCODE_PERMISSION allows every tool: `run` cannot ask anyone, and the
 * container is the sandbox.
 *
 * The message goes on stdin, never as arguments: 1.18.33 joins its message
 * arguments into one string, wrapping each that holds a space in quotes and
 * escaping its quotes, so a prompt passed as `-- <prompt>` reached the model
 * altered. Piped stdin with no message arguments is the message as it is
 * (with arguments too, it would be appended after a newline).
 */
export const opencodePreset: AgentPreset = {
  name: "opencode",
  executable: "opencode",
  npmPackage: "opencode-ai@1.18.33",
  resumable: true,
  keepsSession: false,
  credentialEnv: ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "OPENROUTER_API_KEY"],
  networkHosts: ["api.anthropic.com", "models.dev"],
  closeStdinToFinish: false,
  start: (input) => opencodeRun(input, input.prompt, input.resumeSessionId === null ? [] : ["--session", input.resumeSessionId]),
  followUp: (text, state) => ({
    kind: "invoke",
    invocation: opencodeRun(state.input, text, state.sessionId === null ? ["--continue"] : ["--session", state.sessionId]),
  }),
  parseLine: parseOpencodeLine,
};

function opencodeRun(input: StartInput, message: string, session: readonly string[]): Invocation {
  return {
    argv: ["opencode", "run", "--format", "json", ...modelFlag(input.model), ...session],
    stdin: { kind: "text", text: message },
    env: { OPENCODE_PERMISSION: JSON.stringify({ "*": "allow" }) },
  };
}

export function parseOpencodeLine(line: string): LineFacts {
  const event = jsonObject(line);
  if (event === null) return plainText(line);
  const part = objectAt(event, "part");
  const sessionId = stringAt(event, "sessionID") ?? stringAt(part, "sessionID");
  const session = sessionId === undefined ? {} : { sessionId };
  switch (stringAt(event, "type") ?? "") {
    case "text": {
      const text = stringAt(part, "text");
      return text === undefined ? { events: [], ...session } : { events: [{ type: "text", text }], ...session, finalText: text };
    }
    case "tool_use": {
      const state = objectAt(part, "state");
      return { events: [{ type: "tool", text: stringAt(part, "tool") ?? "tool", data: state?.input }], ...session };
    }
    case "step_finish": {
      const cost = numberAt(part, "cost");
      const ended = stringAt(part, "reason") !== "tool-calls";
      return {
        events: ended ? [{ type: "turn", data: objectAt(part, "tokens") }] : [],
        ...session,
        ...(cost === undefined ? {} : { addCostUsd: cost }),
        ...(ended ? { turnEnded: true, addTurns: 1 } : {}),
      };
    }
    case "error": {
      const error = objectAt(event, "error");
      const message = stringAt(objectAt(error, "data"), "message") ?? stringAt(error, "message") ?? stringAt(error, "name") ?? "error";
      return { events: [{ type: "error", text: message }], ...session, isError: true };
    }
    default:
      return sessionId === undefined ? NOTHING : { events: [], ...session };
  }
}
