import { isUsageLimitText, limitMessage } from "../usage-limit.ts";
import type { AgentPreset, Invocation, LineFacts, StartInput } from "../preset.ts";
import { jsonObject, modelFlag, numberAt, objectAt, plainText, stringAt, NOTHING, type JsonObject } from "./json-line.ts";

/**
 * Gemini CLI, headless: `gemini --prompt=<text> --output-format stream-json`
 * runs one turn and exits; a follow-up is a new process with
 * `--resume <session id>` (or `latest` when the id is unknown). The prompt is
 * given as `--prompt=…` so a prompt starting with "-" is not read as a flag.
 * stdout is JSONL: `init` (session_id, model), `message` (role, content,
 * delta: 0.61.0 gives the assistant's text only in chunks), `tool_use`, `tool_result`,
 * `error` (non-fatal) and `result` (status, stats: tokens, no cost).
 * API retries are said on stderr only (parseGeminiStderrLine).
 *
 * `--approval-mode yolo`: tool calls are approved without asking, since no
 * one can answer inside the container, which is the sandbox.
 *
 * GEMINI_CLI_TRUST_WORKSPACE=true: headless in a folder it has not trusted,
 * 0.61.0 exits 55 ("not running in a trusted directory"); the workspace is
 * the agent's own checkout in its own container. The variable rather than
 * `--skip-trust`, which in 0.61.0 does nothing but set it: a release that
 * does not know the variable ignores it, one that does not know the flag
 * refuses to start.
 */
export const geminiPreset: AgentPreset = {
  name: "gemini",
  executable: "gemini",
  npmPackage: "@google/gemini-cli@0.61.0",
  resumable: true,
  keepsSession: false,
  credentialEnv: ["GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_CLOUD_PROJECT", "GOOGLE_GENAI_USE_VERTEXAI"],
  networkHosts: ["generativelanguage.googleapis.com", "oauth2.googleapis.com", "cloudcode-pa.googleapis.com"],
  closeStdinToFinish: false,
  start: (input) => geminiRun(input, input.prompt, input.resumeSessionId),
  followUp: (text, state) => ({ kind: "invoke", invocation: geminiRun(state.input, text, state.sessionId ?? "latest") }),
  parseLine: parseGeminiLine,
  parseStderrLine: parseGeminiStderrLine,
};

function geminiRun(input: StartInput, prompt: string, resume: string | null): Invocation {
  return {
    argv: [
      "gemini",
      "--output-format",
      "stream-json",
      "--approval-mode",
      "yolo",
      ...modelFlag(input.model),
      ...(resume === null ? [] : ["--resume", resume]),
      `--prompt=${prompt}`,
    ],
    stdin: { kind: "none" },
    env: { GEMINI_CLI_TRUST_WORKSPACE: "true" },
  };
}

export function parseGeminiLine(line: string): LineFacts {
  const event = jsonObject(line);
  if (event === null) return plainText(line);
  switch (stringAt(event, "type") ?? "") {
    case "init": {
      const sessionId = stringAt(event, "session_id");
      return sessionId === undefined
        ? NOTHING
        : { events: [{ type: "started", text: `session ${sessionId}`, data: { model: stringAt(event, "model") } }], sessionId };
    }
    case "message": {
      const content = stringAt(event, "content");
      if (stringAt(event, "role") !== "assistant" || content === undefined) return NOTHING;
      // 0.61.0 sends its answer only in chunks (delta: true), never whole: the last message's chunks are the final text.
      return event.delta === true ? { events: [{ type: "text", text: content }], finalTextDelta: content } : { events: [{ type: "text", text: content }], finalText: content };
    }
    case "tool_use":
      return { events: [{ type: "tool", text: stringAt(event, "tool_name") ?? "tool", data: event.parameters }] };
    case "tool_result":
      return { events: [{ type: "tool-result", text: stringAt(event, "status") ?? "" }] };
    case "error":
      return { events: [{ type: "error", text: stringAt(event, "message") ?? "error" }] };
    case "result": {
      const status = stringAt(event, "status") ?? "success";
      const error = stringAt(objectAt(event, "error"), "message");
      // A quota the CLI gives up on ends the run with a `result` of `error.type` TerminalQuotaError, exit 1.
      const quota = status !== "success" && (stringAt(objectAt(event, "error"), "type") === "TerminalQuotaError" || isUsageLimitText(error ?? ""));
      return {
        events: [{ type: "result", text: error ?? status, data: objectAt(event, "stats") }],
        turnEnded: true,
        addTurns: 1,
        isError: status !== "success",
        ...statsTokens(objectAt(event, "stats")),
        ...(quota ? { usageLimit: { resetsAt: null, kind: "quota", message: limitMessage(error ?? "quota exhausted") } } : {}),
      };
    }
    default:
      return NOTHING;
  }
}

/**
 * Gemini CLI 0.61.0 retries a failed API request (up to ten attempts, with
 * backoff) and says so on stderr only, never on its stream-json stdout:
 * "Attempt 1 failed with status 500. Retrying with backoff... _ApiError: …"
 * (then the error's stack, one line a frame). Also "Attempt 2 failed with
 * 5xx error. …", "… with 429 error (no Retry-After header). …" and "Attempt
 * 3 failed. …". It does not say how many attempts it will make.
 */
export function parseGeminiStderrLine(line: string): LineFacts["events"] {
  const match = /^Attempt (\d+) failed(?: with (?:status (\d{3})|(\d{3}|5xx) error[^.]*))?\. Retrying with backoff/.exec(line);
  if (match === null) return [];
  const attempt = Number(match[1]);
  const status = match[2] ?? match[3];
  const errorStatus = status === undefined || status === "5xx" ? undefined : Number(status);
  const what = status === undefined ? "" : ` ${status}`;
  return [{ type: "api-retry", text: `API error${what}, retry ${String(attempt)}`, data: { attempt, errorStatus } }];
}

/** `stats`' tokens, where it states them. */
function statsTokens(stats: JsonObject | undefined): Pick<LineFacts, "addTokens"> {
  const input = numberAt(stats, "input_tokens");
  const output = numberAt(stats, "output_tokens");
  return input === undefined && output === undefined ? {} : { addTokens: { input: input ?? 0, output: output ?? 0 } };
}
