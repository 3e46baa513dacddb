/**
 * The Gemini API (Gemini CLI): `POST /v1beta/models/<m>:generateContent`
 * (JSON) and `:streamGenerateContent?alt=sse`. A request that asks for JSON
 * by a schema (the CLI's routing classifier, next-speaker and loop checks) is
 * a side call: answered from the schema, not from the script.
 */
import type { Usage } from "./script.ts";
import type { Answer, Entry, Plain, Turn } from "./turn.ts";
import { isRecord, locate, pickTool, records, replyId, text } from "./turn.ts";

const SHELL_TOOLS = ["run_shell_command"];

export function readGeminiTurn(model: string, stream: boolean, body: Record<string, unknown>, hasScript: (text: string) => boolean): Turn {
  const entries = records(body["contents"]).map((content): Entry => {
    if (content["role"] === "model") return { role: "model" };
    const parts = records(content["parts"]);
    if (parts.some((part) => "functionResponse" in part)) return { role: "other" };
    const texts = parts.map((part) => text(part["text"])).filter((value) => value !== undefined);
    return texts.length === 0 ? { role: "other" } : { role: "user", text: texts.join("\n") };
  });
  const functions = records(body["tools"]).flatMap((tool) => records(tool["functionDeclarations"]).map((declaration) => text(declaration["name"]) ?? ""));
  return { model, stream, ...locate(entries, hasScript), shellTool: pickTool(functions, SHELL_TOOLS) };
}

/** The JSON schema a side call asks its answer to follow, if it is one. */
export function geminiSchema(body: Record<string, unknown>): Record<string, unknown> | undefined {
  const config = body["generationConfig"];
  if (!isRecord(config)) return undefined;
  const schema = config["responseJsonSchema"] ?? config["responseSchema"];
  return isRecord(schema) ? schema : undefined;
}

/**
 * A value that satisfies `schema`, choosing what lets the CLI go on: "user"
 * where the next speaker is asked (the turn ends), the first choice of other
 * enums, numbers at their minimum, else 1 (the classifier's complexity
 * score is 1 to 100, told only in its description) or 0 for a confidence (a
 * loop check then finds none).
 */
export function fillSchema(schema: Record<string, unknown>, name = ""): unknown {
  const type = (text(schema["type"]) ?? "").toLowerCase();
  const choices = Array.isArray(schema["enum"]) ? schema["enum"] : undefined;
  if (choices !== undefined && choices.length > 0) return choices.includes("user") ? "user" : choices[0];
  if (type === "object" || isRecord(schema["properties"])) {
    const properties = isRecord(schema["properties"]) ? schema["properties"] : {};
    return Object.fromEntries(Object.entries(properties).map(([key, property]) => [key, isRecord(property) ? fillSchema(property, key) : null]));
  }
  if (type === "array") return [];
  if (type === "number" || type === "integer") return typeof schema["minimum"] === "number" ? schema["minimum"] : /confidence/i.test(name) ? 0 : 1;
  if (type === "boolean") return false;
  return "scripted";
}

function parts(answer: Answer): Record<string, unknown>[] {
  const { reply } = answer;
  return reply.kind === "text" ? [{ text: reply.text }] : [{ functionCall: { name: reply.tool, args: { command: reply.command, description: "scripted step" } } }];
}

function usageOf(usage: Usage): Record<string, number> {
  return { promptTokenCount: usage.input, candidatesTokenCount: usage.output, totalTokenCount: usage.input + usage.output };
}

export function geminiResponse(turn: Turn, answer: Answer, salt: string): unknown {
  return {
    candidates: [{ content: { role: "model", parts: parts(answer) }, finishReason: "STOP", index: 0 }],
    usageMetadata: usageOf(answer.usage),
    modelVersion: turn.model,
    responseId: replyId("", turn.step, salt),
  };
}

/** A side call's answer: the schema's JSON as the model's text. */
export function geminiJson(model: string, schema: Record<string, unknown>, usage: Usage): unknown {
  return {
    candidates: [{ content: { role: "model", parts: [{ text: JSON.stringify(fillSchema(schema)) }] }, finishReason: "STOP", index: 0 }],
    usageMetadata: usageOf(usage),
    modelVersion: model,
  };
}

const STATUS_NAMES: Readonly<Record<number, string>> = { 400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED" };

export function geminiError(status: number): Plain {
  return { status, headers: {}, body: { error: { code: status, message: `Scripted error ${String(status)}`, status: STATUS_NAMES[status] ?? "UNKNOWN" } } };
}

/** A quota that resets at `resetsAt`: a per-day quota (terminal for the CLI) with the delay to its reset. */
export function geminiLimit(resetsAt: number, now: number): Plain {
  const delay = Math.max(0, resetsAt - now);
  return {
    status: 429,
    headers: {},
    body: {
      error: {
        code: 429,
        message: `You exceeded your current quota. Please retry in ${String(delay)}s.`,
        status: "RESOURCE_EXHAUSTED",
        details: [
          {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            violations: [{ quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests", quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier" }],
          },
          { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${String(delay)}s` },
        ],
      },
    },
  };
}
