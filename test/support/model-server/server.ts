/**
 * The scripted model server: one HTTP server on 127.0.0.1 that answers the
 * Anthropic, OpenAI Responses and Gemini APIs from the `#model` lines of the
 * conversation it is sent (README.md here). Node built-ins only: it is
 * bundled to one file that runs on the Node 18 of worker containers.
 */
import { appendFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import { anthropicCountTokens, anthropicError, anthropicEvents, anthropicJson, anthropicLimit, readAnthropicTurn } from "./anthropic.ts";
import { FaultCounters } from "./faults.ts";
import { fillSchema, geminiError, geminiJson, geminiLimit, geminiResponse, geminiSchema, readGeminiTurn } from "./gemini.ts";
import type { LogEntry } from "./log.ts";
import { truncate } from "./log.ts";
import { openAiError, openAiEvents, openAiJson, openAiLimit, readOpenAiTurn } from "./openai.ts";
import { DEFAULT_USAGE, ScriptError, parseScript, scriptLines, stepAt } from "./script.ts";
import type { Answer, Api, Plain, Reply, Turn } from "./turn.ts";
import { isRecord } from "./turn.ts";

export interface ModelServerOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Appends one NDJSON line per request to this file. */
  readonly logPath?: string;
  /** Milliseconds since the epoch; tests of usage limits pass their own clock. */
  readonly now?: () => number;
}

export interface RunningModelServer {
  readonly url: string;
  readonly port: number;
  /** Every request answered so far, in order. */
  log(): readonly LogEntry[];
  close(): Promise<void>;
}

/** How one API reads a turn and writes its answers. */
interface Dialect {
  readonly api: Api;
  readonly json: (turn: Turn, answer: Answer, salt: string) => unknown;
  readonly events: (turn: Turn, answer: Answer, salt: string) => { event: string | undefined; data: unknown }[];
  readonly error: (status: number) => Plain;
  readonly limit: (resetsAt: number, now: number) => Plain;
}

const ANTHROPIC: Dialect = { api: "anthropic", json: anthropicJson, events: anthropicEvents, error: anthropicError, limit: anthropicLimit };
const OPENAI: Dialect = { api: "openai", json: openAiJson, events: openAiEvents, error: openAiError, limit: openAiLimit };
const GEMINI: Dialect = {
  api: "gemini",
  json: geminiResponse,
  // Gemini's SSE has data lines only: one chunk carrying the whole answer, its finish reason and usage.
  events: (turn, answer, salt) => [{ event: undefined, data: geminiResponse(turn, answer, salt) }],
  error: geminiError,
  limit: geminiLimit,
};

const GEMINI_PATH = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):(\w+)$/;

const hasScript = (value: string): boolean => scriptLines(value).length > 0;

export async function createModelServer(options: ModelServerOptions = {}): Promise<RunningModelServer> {
  const now = options.now ?? Date.now;
  const counters = new FaultCounters();
  const entries: LogEntry[] = [];
  const record = (entry: Omit<LogEntry, "time">): void => {
    const full: LogEntry = { time: new Date(now()).toISOString(), ...entry };
    entries.push(full);
    if (options.logPath !== undefined) appendFileSync(options.logPath, `${JSON.stringify(full)}\n`);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (!response.headersSent) send(response, { status: 500, headers: {}, body: { error: { message: `model-server: ${message}` } } });
      else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? "GET";
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const path = url.pathname;
    const base = { method, path, step: undefined, usage: undefined, userText: undefined, script: [] };
    if (method !== "POST") {
      const body = path === "/v1/models" ? { object: "list", data: [{ id: "scripted", object: "model", type: "model", display_name: "scripted" }], has_more: false } : path === "/v1beta/models" ? { models: [] } : {};
      send(response, { status: 200, headers: {}, body }, method === "HEAD");
      record({ ...base, api: "other", model: undefined, status: 200, answer: "probe" });
      return;
    }
    const raw = await readBody(request);
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    if (!isRecord(body)) {
      send(response, { status: 400, headers: {}, body: { error: { message: "model-server: the request body is not a JSON object" } } });
      record({ ...base, api: "other", model: undefined, status: 400, answer: "unknown" });
      return;
    }

    if (path === "/v1/messages/count_tokens") {
      send(response, { status: 200, headers: {}, body: anthropicCountTokens(body) });
      record({ ...base, api: "anthropic", model: undefined, status: 200, answer: "json" });
      return;
    }
    if (path === "/v1/messages") {
      await answerTurn(response, ANTHROPIC, readAnthropicTurn(body, hasScript), base);
      return;
    }
    if (path === "/v1/responses") {
      await answerTurn(response, OPENAI, readOpenAiTurn(body, hasScript), base);
      return;
    }
    const gemini = GEMINI_PATH.exec(path);
    if (gemini !== null) {
      const model = decodeURIComponent(gemini[1] ?? "gemini-scripted");
      const call = gemini[2] ?? "";
      if (call === "countTokens") {
        send(response, { status: 200, headers: {}, body: { totalTokens: Math.ceil(raw.length / 4) } });
        record({ ...base, api: "gemini", model, status: 200, answer: "json" });
        return;
      }
      const schema = geminiSchema(body);
      if (schema !== undefined) {
        const json = geminiJson(model, schema, DEFAULT_USAGE);
        if (call === "streamGenerateContent") sendEvents(response, [{ event: undefined, data: json }]);
        else send(response, { status: 200, headers: {}, body: json });
        record({ ...base, api: "gemini", model, status: 200, answer: "json", usage: DEFAULT_USAGE, command: JSON.stringify(fillSchema(schema)) });
        return;
      }
      if (call === "generateContent" || call === "streamGenerateContent") {
        await answerTurn(response, GEMINI, readGeminiTurn(model, call === "streamGenerateContent", body, hasScript), base);
        return;
      }
    }
    send(response, { status: 404, headers: {}, body: { error: { message: `model-server: no route for ${method} ${path} (see test/support/model-server/README.md)` } } });
    record({ ...base, api: "other", model: undefined, status: 404, answer: "unknown" });
  }

  async function answerTurn(response: ServerResponse, dialect: Dialect, turn: Turn, base: { method: string; path: string }): Promise<void> {
    const logged = { ...base, api: dialect.api, model: turn.model, step: turn.step, userText: truncate(turn.userText), script: scriptLines(turn.userText ?? "") };
    let steps;
    try {
      steps = parseScript(turn.userText ?? "");
    } catch (error) {
      if (!(error instanceof ScriptError)) throw error;
      send(response, { ...dialect.error(400), body: { error: { type: "invalid_request_error", message: error.message } } });
      record({ ...logged, status: 400, answer: "error", usage: undefined });
      return;
    }
    const step = stepAt(steps, turn.step);
    if (step.waitSeconds > 0 && !(await waitUnlessClosed(response, step.waitSeconds * 1000))) return;
    const nowSeconds = Math.floor(now() / 1000);
    const firing = counters.fire(`${dialect.api}|${turn.userText ?? ""}|${String(turn.step)}`, step.faults, nowSeconds);
    if (firing?.kind === "status") {
      send(response, dialect.error(firing.status));
      record({ ...logged, status: firing.status, answer: "error", usage: undefined });
      return;
    }
    if (firing?.kind === "limit") {
      send(response, dialect.limit(firing.resetsAt, nowSeconds));
      record({ ...logged, status: 429, answer: "limit", resetsAt: firing.resetsAt, usage: undefined });
      return;
    }
    const reply = replyFor(step.action, turn.shellTool);
    const answer: Answer = { reply, usage: step.usage };
    const salt = `${dialect.api}|${turn.userText ?? ""}`;
    if (turn.stream) sendEvents(response, dialect.events(turn, answer, salt));
    else send(response, { status: 200, headers: {}, body: dialect.json(turn, answer, salt) });
    record({ ...logged, status: 200, answer: reply.kind, usage: step.usage, ...(reply.kind === "shell" ? { command: reply.command } : {}) });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    // Loopback only: the server must never be reachable from outside its container or host.
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    port,
    log: () => [...entries],
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

/** A shell step becomes a text answer where the request offers no shell tool (a side call, or a CLI this server does not know). */
function replyFor(action: { kind: "shell"; command: string } | { kind: "say"; text: string }, shellTool: string | undefined): Reply {
  if (action.kind === "say") return { kind: "text", text: action.text };
  if (shellTool === undefined) return { kind: "text", text: `model-server: the request offers no shell tool to run: ${action.command}` };
  return { kind: "shell", tool: shellTool, command: action.command };
}

function send(response: ServerResponse, plain: Plain, headOnly = false): void {
  const payload = JSON.stringify(plain.body);
  response.writeHead(plain.status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(payload)), ...plain.headers });
  response.end(headOnly ? undefined : payload);
}

function sendEvents(response: ServerResponse, events: readonly { event: string | undefined; data: unknown }[]): void {
  response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  for (const { event, data } of events) response.write(`${event === undefined ? "" : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`);
  response.end();
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
    request.on("error", reject);
  });
}

/** Waits `ms`; false when the client went away meanwhile (nothing is to be answered then). */
function waitUnlessClosed(response: ServerResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      response.off("close", onClose);
      resolve(true);
    }, ms);
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    response.once("close", onClose);
  });
}
