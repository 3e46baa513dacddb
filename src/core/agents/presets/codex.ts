import type { AgentPreset, Invocation, LineFacts, StartInput } from "../preset.ts";
import { isUsageLimitText, limitMessage } from "../usage-limit.ts";
import { jsonObject, modelFlag, numberAt, objectAt, plainText, stringAt, NOTHING, type JsonObject } from "./json-line.ts";

/**
 * OpenAI Codex CLI, non-interactive: `codex exec --json` runs one turn and
 * exits; a follow-up is a new process, `codex exec … resume <session> -`,
 * which continues the recorded session. The prompt goes on stdin (`-`), so
 * its size is not bounded by the argument limit. stdout is JSONL:
 * `thread.started` (thread_id: the session), `turn.started`, `item.started|
 * updated|completed` (item.type agent_message, reasoning, command_execution,
 * file_change, mcp_tool_call, web_search, todo_list, error; early releases
 * named the field item_type and the message assistant_message),
 * `turn.completed` (usage: tokens, no cost), `turn.failed` and `error` (also
 * its word that it retries the API: "Reconnecting... n/5").
 *
 * `--dangerously-bypass-approvals-and-sandbox`: Codex's own sandbox
 * (Landlock, seccomp) is often unavailable inside a container, and the
 * container is the sandbox; approvals cannot be answered unattended.
 */
export const codexPreset: AgentPreset = {
  name: "codex",
  executable: "codex",
  npmPackage: "@openai/codex@0.171.0",
  resumable: true,
  keepsSession: false,
  credentialEnv: ["OPENAI_API_KEY", "CODEX_API_KEY"],
  networkHosts: ["api.openai.com", "chatgpt.com", "auth.openai.com"],
  closeStdinToFinish: false,
  start: (input) => codexRun(input, input.prompt, input.resumeSessionId),
  followUp: (text, state) => ({ kind: "invoke", invocation: codexRun(state.input, text, state.sessionId ?? "--last") }),
  parseLine: parseCodexLine,
};

function codexRun(input: StartInput, prompt: string, resume: string | null): Invocation {
  // Options go before `resume`: they belong to `exec` in every release.
  const options = ["--json", "--dangerously-bypass-approvals-and-sandbox", ...modelFlag(input.model)];
  return {
    argv: ["codex", "exec", ...options, ...(resume === null ? [] : ["resume", resume]), "-"],
    stdin: { kind: "text", text: prompt },
  };
}

export function parseCodexLine(line: string): LineFacts {
  const event = jsonObject(line);
  if (event === null) return plainText(line);
  switch (stringAt(event, "type") ?? "") {
    case "thread.started": {
      const sessionId = stringAt(event, "thread_id");
      return sessionId === undefined ? NOTHING : { events: [{ type: "started", text: `session ${sessionId}` }], sessionId };
    }
    case "item.completed":
      return itemFacts(objectAt(event, "item"));
    case "turn.completed":
      return { events: [{ type: "turn", data: objectAt(event, "usage") }], turnEnded: true, addTurns: 1, ...tokensOf(objectAt(event, "usage")) };
    case "turn.failed": {
      const message = stringAt(objectAt(event, "error"), "message") ?? "turn failed";
      return { events: [{ type: "error", text: message }], turnEnded: true, addTurns: 1, isError: true, ...usageLimitOf(message) };
    }
    case "error": {
      const message = stringAt(event, "message") ?? "error";
      const retry = apiRetryOf(message);
      if (retry !== null) return { events: [retry] };
      return { events: [{ type: "error", text: message }], isError: true, ...usageLimitOf(message) };
    }
    default:
      return NOTHING;
  }
}

/**
 * Codex ends a turn on a ChatGPT plan's limit with "You've hit your usage
 * limit. … try again at <local time>." (`error`, then `turn.failed`): the time
 * is in the machine's words and zone, so the reset is left unknown.
 */
function usageLimitOf(message: string): Pick<LineFacts, "usageLimit"> {
  return isUsageLimitText(message) ? { usageLimit: { resetsAt: null, kind: "usage_limit", message: limitMessage(message) } } : {};
}

/**
 * Codex 0.171.0 retries a failed request four times without a word; when the
 * turn's stream is retried after that, it says so in an `error` event:
 * "Reconnecting... 1/5 (unexpected status 529 <unknown status code>: …)" (a
 * 500 reads "(We’re currently experiencing high demand, …)"). Not an error of
 * the turn: an API retry, shown as one while it lasts.
 */
function apiRetryOf(message: string): LineFacts["events"][number] | null {
  const match = /^Reconnecting\.{3}\s*(\d+)\/(\d+)\b\s*(?:\((.*)\))?/s.exec(message);
  if (match === null) return null;
  const attempt = Number(match[1]);
  const maxRetries = Number(match[2]);
  const status = /\bstatus (\d{3})\b/.exec(match[3] ?? "")?.[1];
  const errorStatus = status === undefined ? undefined : Number(status);
  return {
    type: "api-retry",
    text: `API error${errorStatus === undefined ? "" : ` ${String(errorStatus)}`}, retry ${String(attempt)} of ${String(maxRetries)}`,
    data: { attempt, maxRetries, errorStatus, message: limitMessage(message) },
  };
}

/** `usage`'s tokens (cached input is part of `input_tokens`, priced as input: an estimate that errs high). */
function tokensOf(usage: JsonObject | undefined): Pick<LineFacts, "addTokens"> {
  const input = numberAt(usage, "input_tokens");
  const output = numberAt(usage, "output_tokens");
  return input === undefined && output === undefined ? {} : { addTokens: { input: input ?? 0, output: output ?? 0 } };
}

function itemFacts(item: JsonObject | undefined): LineFacts {
  const text = stringAt(item, "text");
  switch (stringAt(item, "type") ?? stringAt(item, "item_type") ?? "") {
    case "agent_message":
    case "assistant_message":
      return text === undefined ? NOTHING : { events: [{ type: "text", text }], finalText: text };
    case "reasoning":
      return text === undefined ? NOTHING : { events: [{ type: "reasoning", text }] };
    case "command_execution":
      return { events: [{ type: "tool", text: `command: ${stringAt(item, "command") ?? "?"}`, data: item }] };
    case "file_change":
      return { events: [{ type: "tool", text: "file change", data: item }] };
    case "mcp_tool_call":
      return { events: [{ type: "tool", text: `${stringAt(item, "server") ?? "mcp"}: ${stringAt(item, "tool") ?? "?"}`, data: item }] };
    case "web_search":
      return { events: [{ type: "tool", text: `web search: ${stringAt(item, "query") ?? ""}` }] };
    case "error":
      // An item, not the turn: 0.171.0 says so of a model it has no metadata for ("Model metadata for `gpt-5-codex`
      // not found. Defaulting to fallback metadata…") and goes on normally. A failure is `turn.failed` or `error`.
      return { events: [{ type: "warning", text: stringAt(item, "message") ?? text ?? "warning" }] };
    default:
      return NOTHING;
  }
}
