/**
 * The OpenAI Responses API (Codex): `POST /v1/responses`, SSE when
 * `stream: true`, JSON otherwise. One output item per response, so the
 * conversation's model items count the steps.
 */
import type { Usage } from "./script.ts";
import type { Answer, Entry, Plain, Turn } from "./turn.ts";
import { locate, pickTool, records, replyId, text } from "./turn.ts";

/** Codex's unified-exec tool takes `{cmd}`; its older `shell` an argv, `shell_command` a string. */
const SHELL_TOOLS = ["exec_command", "shell_command", "shell"];

export function readOpenAiTurn(body: Record<string, unknown>, hasScript: (text: string) => boolean): Turn {
  const input = typeof body["input"] === "string" ? [{ role: "user", content: body["input"] }] : records(body["input"]);
  const entries = input.map((item): Entry => {
    const type = text(item["type"]) ?? "message";
    if (type === "function_call" || type === "custom_tool_call" || type === "local_shell_call") return { role: "model" };
    if (type !== "message") return { role: "other" };
    if (item["role"] === "assistant") return { role: "model" };
    if (item["role"] !== "user") return { role: "other" };
    const userText = userTextOf(item["content"]);
    return userText === undefined ? { role: "other" } : { role: "user", text: userText };
  });
  const functions = records(body["tools"]).map((tool) => text(tool["name"]) ?? "");
  return { model: text(body["model"]) ?? "gpt-scripted", stream: body["stream"] === true, ...locate(entries, hasScript), shellTool: pickTool(functions, SHELL_TOOLS) };
}

function userTextOf(content: unknown): string | undefined {
  if (typeof content === "string") return content;
  const texts = records(content).filter((part) => part["type"] === "input_text").map((part) => text(part["text"]) ?? "");
  return texts.length === 0 ? undefined : texts.join("\n");
}

function argumentsFor(tool: string, command: string): string {
  if (tool === "shell") return JSON.stringify({ command: ["bash", "-lc", command] });
  if (tool === "shell_command") return JSON.stringify({ command });
  return JSON.stringify({ cmd: command });
}

function outputItem(answer: Answer, id: string): Record<string, unknown> {
  const { reply } = answer;
  return reply.kind === "text"
    ? { type: "message", id: `msg_${id}`, role: "assistant", status: "completed", content: [{ type: "output_text", text: reply.text, annotations: [] }] }
    : { type: "function_call", id: `fc_${id}`, call_id: `call_${id}`, name: reply.tool, arguments: argumentsFor(reply.tool, reply.command), status: "completed" };
}

function usageOf(usage: Usage): Record<string, unknown> {
  return {
    input_tokens: usage.input,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: usage.output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.input + usage.output,
  };
}

function response(turn: Turn, id: string, status: string, output: unknown[], usage: Usage | undefined): Record<string, unknown> {
  return { id: `resp_${id}`, object: "response", created_at: 0, status, model: turn.model, output, ...(usage === undefined ? {} : { usage: usageOf(usage) }) };
}

export function openAiJson(turn: Turn, answer: Answer, salt: string): unknown {
  const id = replyId("", turn.step, salt);
  return response(turn, id, "completed", [outputItem(answer, id)], answer.usage);
}

/** The SSE events of one streamed response, in the order the API sends them. */
export function openAiEvents(turn: Turn, answer: Answer, salt: string): { event: string; data: unknown }[] {
  const id = replyId("", turn.step, salt);
  const item = outputItem(answer, id);
  const events: Record<string, unknown>[] = [
    { type: "response.created", response: response(turn, id, "in_progress", [], undefined) },
    { type: "response.in_progress", response: response(turn, id, "in_progress", [], undefined) },
  ];
  const { reply } = answer;
  if (reply.kind === "text") {
    const part = { type: "output_text", text: reply.text, annotations: [] };
    events.push(
      { type: "response.output_item.added", output_index: 0, item: { ...item, status: "in_progress", content: [] } },
      { type: "response.content_part.added", item_id: item["id"], output_index: 0, content_index: 0, part: { ...part, text: "" } },
      { type: "response.output_text.delta", item_id: item["id"], output_index: 0, content_index: 0, delta: reply.text },
      { type: "response.output_text.done", item_id: item["id"], output_index: 0, content_index: 0, text: reply.text },
      { type: "response.content_part.done", item_id: item["id"], output_index: 0, content_index: 0, part },
    );
  } else {
    events.push(
      { type: "response.output_item.added", output_index: 0, item: { ...item, arguments: "", status: "in_progress" } },
      { type: "response.function_call_arguments.delta", item_id: item["id"], output_index: 0, delta: item["arguments"] },
      { type: "response.function_call_arguments.done", item_id: item["id"], output_index: 0, arguments: item["arguments"] },
    );
  }
  events.push(
    { type: "response.output_item.done", output_index: 0, item },
    { type: "response.completed", response: response(turn, id, "completed", [item], answer.usage) },
  );
  return events.map((data, index) => ({ event: String(data["type"]), data: { ...data, sequence_number: index } }));
}

export function openAiError(status: number): Plain {
  const type = status === 429 ? "rate_limit_exceeded" : status >= 500 ? "server_error" : "invalid_request_error";
  return { status, headers: {}, body: { error: { message: `Scripted error ${String(status)}`, type, code: type, param: null } } };
}

/** A plan's usage limit as Codex reads it: `usage_limit_reached` with its reset, and the primary window headers. */
export function openAiLimit(resetsAt: number, now: number): Plain {
  const after = String(Math.max(0, resetsAt - now));
  return {
    status: 429,
    headers: {
      "x-codex-primary-used-percent": "100",
      "x-codex-primary-window-minutes": "300",
      "x-codex-primary-reset-at": String(resetsAt),
      "x-codex-primary-reset-after-seconds": after,
    },
    body: {
      error: {
        type: "usage_limit_reached",
        message: "The usage limit has been reached",
        plan_type: "plus",
        resets_at: resetsAt,
        resets_in_seconds: Number(after),
      },
    },
  };
}
