/**
 * The Anthropic Messages API (Claude Code, opencode): `POST /v1/messages`
 * (`?beta=true`), SSE when `stream: true`, JSON otherwise.
 */
import type { Usage } from "./script.ts";
import type { Answer, Entry, Plain, Turn } from "./turn.ts";
import { locate, pickTool, records, replyId, text, userTextOfBlocks } from "./turn.ts";

/** Claude Code's shell tool is `Bash`, opencode's `bash`; both take `{command}`. */
const SHELL_TOOLS = ["Bash", "bash"];

export function readAnthropicTurn(body: Record<string, unknown>, hasScript: (text: string) => boolean): Turn {
  const entries = records(body["messages"]).map((message): Entry => {
    if (message["role"] === "assistant") return isPlaceholder(message["content"]) ? { role: "other" } : { role: "model" };
    const userText = userTextOf(message["content"], hasScript);
    return userText === undefined ? { role: "other" } : { role: "user", text: userText };
  });
  return {
    model: text(body["model"]) ?? "claude-scripted",
    stream: body["stream"] === true,
    ...locate(entries, hasScript),
    shellTool: pickTool(records(body["tools"]).map((tool) => text(tool["name"]) ?? ""), SHELL_TOOLS),
    offersTools: records(body["tools"]).length > 0,
  };
}

/**
 * Claude Code 2.1.332's own stand-in for an answer it never got: a session
 * resumed after a turn interrupted during a tool call holds, after the tool
 * result and "[Request interrupted by user for tool use]", an assistant
 * message "No response requested." that this server never sent (seen
 * here). Counted as a response, it moved the script one step on: the
 * closing answer was skipped.
 */
const PLACEHOLDER_ANSWER = "No response requested.";

function isPlaceholder(content: unknown): boolean {
  const blocks = typeof content === "string" ? [{ type: "text", text: content }] : records(content);
  return blocks.length > 0 && blocks.every((block) => block["type"] === "text" && (text(block["text"]) ?? "").trim() === PLACEHOLDER_ANSWER);
}

/** The text of a user message that is the user's (not one carrying tool results), else undefined. */
function userTextOf(content: unknown, hasScript: (text: string) => boolean): string | undefined {
  if (typeof content === "string") return content;
  const blocks = records(content);
  if (blocks.some((block) => block["type"] === "tool_result")) return undefined;
  return userTextOfBlocks(blocks.filter((block) => block["type"] === "text").map((block) => text(block["text"]) ?? ""), hasScript);
}

function content(answer: Answer, id: string): Record<string, unknown> {
  const { reply } = answer;
  return reply.kind === "text"
    ? { type: "text", text: reply.text }
    : { type: "tool_use", id: `toolu_${id}`, name: reply.tool, input: { command: reply.command, description: "scripted step" } };
}

function usageOf(usage: Usage): Record<string, number> {
  return { input_tokens: usage.input, output_tokens: usage.output, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
}

export function anthropicJson(turn: Turn, answer: Answer, salt: string): unknown {
  const id = replyId("", turn.step, salt);
  return {
    id: `msg_${id}`,
    type: "message",
    role: "assistant",
    model: turn.model,
    content: [content(answer, id)],
    stop_reason: answer.reply.kind === "shell" ? "tool_use" : "end_turn",
    stop_sequence: null,
    usage: usageOf(answer.usage),
  };
}

/** The SSE events of one streamed message, in the order the API sends them. */
export function anthropicEvents(turn: Turn, answer: Answer, salt: string): { event: string; data: unknown }[] {
  const id = replyId("", turn.step, salt);
  const block = content(answer, id);
  const start = block["type"] === "text" ? { type: "text", text: "" } : { ...block, input: {} };
  const delta =
    answer.reply.kind === "text"
      ? { type: "text_delta", text: answer.reply.text }
      : { type: "input_json_delta", partial_json: JSON.stringify(block["input"]) };
  return [
    {
      event: "message_start",
      data: {
        type: "message_start",
        message: { id: `msg_${id}`, type: "message", role: "assistant", model: turn.model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usageOf(answer.usage), output_tokens: 1 } },
      },
    },
    { event: "content_block_start", data: { type: "content_block_start", index: 0, content_block: start } },
    { event: "ping", data: { type: "ping" } },
    { event: "content_block_delta", data: { type: "content_block_delta", index: 0, delta } },
    { event: "content_block_stop", data: { type: "content_block_stop", index: 0 } },
    {
      event: "message_delta",
      data: { type: "message_delta", delta: { stop_reason: answer.reply.kind === "shell" ? "tool_use" : "end_turn", stop_sequence: null }, usage: usageOf(answer.usage) },
    },
    { event: "message_stop", data: { type: "message_stop" } },
  ];
}

export function anthropicError(status: number): Plain {
  const type = status === 429 ? "rate_limit_error" : status === 529 ? "overloaded_error" : status >= 500 ? "api_error" : "invalid_request_error";
  return { status, headers: {}, body: { type: "error", error: { type, message: `Scripted error ${String(status)}` } } };
}

/**
 * A subscription usage limit as Claude Code reads it (its bundle reads
 * `anthropic-ratelimit-unified-status`, `-reset` in epoch seconds,
 * `-representative-claim` and `-overage-status`).
 */
export function anthropicLimit(resetsAt: number, now: number): Plain {
  const reset = String(resetsAt);
  return {
    status: 429,
    headers: {
      "retry-after": String(Math.max(1, resetsAt - now)),
      "anthropic-ratelimit-unified-status": "rejected",
      "anthropic-ratelimit-unified-reset": reset,
      "anthropic-ratelimit-unified-representative-claim": "five_hour",
      "anthropic-ratelimit-unified-5h-status": "rejected",
      "anthropic-ratelimit-unified-5h-reset": reset,
      "anthropic-ratelimit-unified-5h-utilization": "1.0",
      "anthropic-ratelimit-unified-overage-status": "rejected",
      "anthropic-ratelimit-unified-overage-disabled-reason": "org_level_disabled",
    },
    body: { type: "error", error: { type: "rate_limit_error", message: "You've hit your 5-hour limit" } },
  };
}

/** `POST /v1/messages/count_tokens`: a deterministic count. */
export function anthropicCountTokens(body: Record<string, unknown>): unknown {
  return { input_tokens: Math.ceil(JSON.stringify(body["messages"] ?? []).length / 4) };
}
