import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RunningModelServer } from "../../support/model-server/index.ts";
import { startModelServer } from "../../support/model-server/index.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";
import { json, post, sse } from "./client.ts";

const TOOLS = [{ name: "Read", input_schema: {} }, { name: "Bash", input_schema: {} }];
const SCRIPT = ["Fix the bug.", "#model shell git commit -qam fix", "#model say Fixed it."].join("\n");

/** A Claude Code-like request: its context and the prompt as text blocks, the tools, streaming. */
function request(messages: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: "claude-opus-5-5", max_tokens: 32000, stream: true, tools: TOOLS, messages, ...extra };
}
const prompt = (text: string) => ({ role: "user", content: [{ type: "text", text: "<system-reminder>context</system-reminder>" }, { type: "text", text }] });
const toolUse = (id: string) => ({ role: "assistant", content: [{ type: "tool_use", id, name: "Bash", input: { command: "x" } }] });
const toolResult = (id: string) => ({ role: "user", content: [{ type: "tool_result", tool_use_id: id, content: "ok" }, { type: "text", text: "<system-reminder>later</system-reminder>" }] });

describe("model server: Anthropic Messages", () => {
  const tempDir = useTempDirs("model-server");
  let server: RunningModelServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("streams a tool_use of the Bash tool with the script's command, in the API's event order", async () => {
    server = await startModelServer();
    const events = sse(await post(server, "/v1/messages?beta=true", request([prompt(SCRIPT)])));
    expect(events.map((event) => event.event)).toEqual(["message_start", "content_block_start", "ping", "content_block_delta", "content_block_stop", "message_delta", "message_stop"]);
    expect(events.every((event) => event.data["type"] === event.event)).toBe(true);
    expect(events[1]?.data["content_block"]).toMatchObject({ type: "tool_use", name: "Bash", input: {} });
    const delta = events[3]?.data["delta"] as { type: string; partial_json: string };
    expect(delta.type).toBe("input_json_delta");
    expect(JSON.parse(delta.partial_json)).toMatchObject({ command: "git commit -qam fix" });
    expect(events[5]?.data).toMatchObject({ delta: { stop_reason: "tool_use" }, usage: { input_tokens: 1000, output_tokens: 50 } });
  });

  it("answers the next step after the tool result, and the closing text after the script, ending the turn", async () => {
    server = await startModelServer();
    const second = sse(await post(server, "/v1/messages", request([prompt(SCRIPT), toolUse("t1"), toolResult("t1")])));
    expect(second[3]?.data["delta"]).toEqual({ type: "text_delta", text: "Fixed it." });
    expect(second[5]?.data).toMatchObject({ delta: { stop_reason: "end_turn" } });
    const third = json(await post(server, "/v1/messages", request([prompt(SCRIPT), toolUse("t1"), toolResult("t1"), { role: "assistant", content: [{ type: "text", text: "Fixed it." }] }], { stream: false })));
    expect(third).toMatchObject({ type: "message", role: "assistant", content: [{ type: "text", text: "Done." }], stop_reason: "end_turn", usage: { input_tokens: 1000, output_tokens: 50 } });
    expect(server.log().map((entry) => [entry.step, entry.answer])).toEqual([
      [1, "text"],
      [2, "text"],
    ]);
  });

  it("takes a later user message with its own script as a new turn (a cspace send)", async () => {
    server = await startModelServer();
    const conversation = [prompt(SCRIPT), toolUse("t1"), toolResult("t1"), { role: "assistant", content: [{ type: "text", text: "Fixed it." }] }, prompt("Also this.\n#model shell echo more\n#model say More.")];
    const events = sse(await post(server, "/v1/messages", request(conversation)));
    expect(JSON.parse((events[3]?.data["delta"] as { partial_json: string }).partial_json)).toMatchObject({ command: "echo more" });
    expect(server.log()[0]).toMatchObject({ step: 0, script: ["#model shell echo more", "#model say More."] });
  });

  it("answers a non-streaming request with the whole message as JSON, with opencode's bash tool", async () => {
    server = await startModelServer();
    const answer = json(await post(server, "/v1/messages", { model: "m", stream: false, tools: [{ name: "bash" }], messages: [{ role: "user", content: SCRIPT }] }));
    expect(answer).toMatchObject({ content: [{ type: "tool_use", name: "bash", input: { command: "git commit -qam fix" } }], stop_reason: "tool_use" });
  });

  it("answers a shell step with text where the request offers tools but no shell tool", async () => {
    server = await startModelServer();
    const answer = json(await post(server, "/v1/messages", { model: "m", tools: [{ name: "Read" }], messages: [{ role: "user", content: SCRIPT }] }));
    expect(answer["content"]).toEqual([{ type: "text", text: "model-server: the request offers no shell tool to run: git commit -qam fix" }]);
  });

  it("answers a request offering no tools as a side call, which neither takes a step nor meets the script's faults", async () => {
    server = await startModelServer();
    const script = "#model fail 500 once\n#model say Real answer.";
    const title = json(await post(server, "/v1/messages", { model: "small", system: "Generate a title", messages: [{ role: "user", content: script }] }));
    expect(title["content"]).toEqual([{ type: "text", text: "Scripted side answer." }]);
    expect((await post(server, "/v1/messages", request([prompt(script)]))).status).toBe(500);
    expect(server.log().map((entry) => [entry.answer, entry.step])).toEqual([
      ["side", undefined],
      ["error", 0],
    ]);
  });

  it("fails a step with the scripted status once, then answers it when the CLI retries the same request", async () => {
    server = await startModelServer();
    const body = request([prompt("#model fail 529 once\n#model say Survived.")]);
    const first = await post(server, "/v1/messages", body);
    expect(first.status).toBe(529);
    expect(json(first)).toEqual({ type: "error", error: { type: "overloaded_error", message: "Scripted error 529" } });
    expect(sse(await post(server, "/v1/messages", body))[3]?.data["delta"]).toEqual({ type: "text_delta", text: "Survived." });
  });

  it("fails n times, or always", async () => {
    server = await startModelServer();
    const twice = request([prompt("#model fail 500 2 times\n#model say ok")]);
    const always = request([prompt("#model fail 503 always\n#model say never")]);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(server, "/v1/messages", twice)).status, (await post(server, "/v1/messages", always)).status);
    expect(statuses).toEqual([500, 503, 500, 503, 200, 503]);
  });

  it("answers a usage limit with the subscription headers Claude Code reads until the reset, then the step", async () => {
    let now = Date.parse("2026-12-06T14:00:00Z");
    server = await startModelServer({ now: () => now });
    const body = request([prompt("#model limit 30m\n#model say After the reset.")]);
    const limited = await post(server, "/v1/messages", body);
    const resetsAt = now / 1000 + 1800;
    expect(limited.status).toBe(429);
    expect(json(limited)).toMatchObject({ type: "error", error: { type: "rate_limit_error" } });
    expect(Object.fromEntries([...limited.headers].filter(([name]) => name.startsWith("anthropic-ratelimit-unified-status") || name.endsWith("-reset") || name.endsWith("claim")))).toEqual({
      "anthropic-ratelimit-unified-status": "rejected",
      "anthropic-ratelimit-unified-reset": String(resetsAt),
      "anthropic-ratelimit-unified-5h-reset": String(resetsAt),
      "anthropic-ratelimit-unified-representative-claim": "five_hour",
    });
    now += 1799_000;
    expect((await post(server, "/v1/messages", body)).headers.get("anthropic-ratelimit-unified-reset")).toBe(String(resetsAt));
    now += 1000;
    expect((await post(server, "/v1/messages", body)).status).toBe(200);
    expect(server.log().map((entry) => [entry.status, entry.answer, entry.resetsAt])).toEqual([
      [429, "limit", resetsAt],
      [429, "limit", resetsAt],
      [200, "text", undefined],
    ]);
  });

  it("keeps a limit's reset for a new attempt whose prompt has the same script in a different context", async () => {
    let now = Date.parse("2026-12-06T14:00:00Z");
    server = await startModelServer({ now: () => now });
    const script = "Fix.\n#model limit 10m\n#model say After.";
    const firstAttempt = await post(server, "/v1/messages", request([{ role: "user", content: `gitStatus: clean\n${script}` }]));
    now += 60_000;
    const secondAttempt = await post(server, "/v1/messages", request([{ role: "user", content: `gitStatus: 1 commit ahead\n${script}` }]));
    expect([firstAttempt.status, secondAttempt.status]).toEqual([429, 429]);
    expect(secondAttempt.headers.get("anthropic-ratelimit-unified-reset")).toBe(firstAttempt.headers.get("anthropic-ratelimit-unified-reset"));
  });

  it("logs a held request when it arrives and when its client goes away before the answer", async () => {
    const seen = new Map<string, () => void>();
    const logged = (answer: string) =>
      new Promise<void>((resolve) => {
        seen.set(answer, resolve);
      });
    const arrived = logged("waiting");
    const abandoned = logged("abandoned");
    server = await startModelServer({ onLog: (entry) => seen.get(entry.answer)?.() });
    const client = new AbortController();
    const held = fetch(`${server.url}/v1/messages`, { method: "POST", body: JSON.stringify(request([prompt("#model wait 600\n#model say Too late.")])), signal: client.signal });
    await arrived;
    client.abort();
    await expect(held).rejects.toThrow();
    await abandoned;
    expect(server.log().map((entry) => [entry.answer, entry.status])).toEqual([
      ["waiting", 0],
      ["abandoned", 0],
    ]);
  });

  it("steers a resumed session whose user message holds the prompt twice by that script once: its fault met once, its step answered", async () => {
    // Claude Code 2.1.332 resumed after a turn that ended in an API error (a usage limit) and sent the prompt again:
    // it dropped its synthetic error answer and merged both prompts into one user message, a text block each.
    server = await startModelServer();
    const script = ["Say hi.", "#model fail 500 once", "#model say Hello."].join("\n");
    expect((await post(server, "/v1/messages", request([prompt(script)], { stream: false }))).status).toBe(500);
    const merged = { role: "user", content: [...prompt(script).content, { type: "text", text: script }] };
    const resumed = json(await post(server, "/v1/messages", request([merged], { stream: false })));
    expect(resumed).toMatchObject({ content: [{ type: "text", text: "Hello." }] });
    expect(server.log().map((entry) => [entry.step, entry.status, entry.script])).toEqual([
      [0, 500, ["#model fail 500 once", "#model say Hello."]],
      [0, 200, ["#model fail 500 once", "#model say Hello."]],
    ]);
  });

  it("counts no response for the placeholder Claude Code puts in a session resumed after its shell step was interrupted", async () => {
    // Claude Code 2.1.332, interrupted during the scripted shell step and resumed with a message of its own (no
    // script): the tool result refused, "[Request interrupted by user for tool use]", then its own "No response
    // requested." The server answered one step (the shell call): the next is the script's closing answer.
    server = await startModelServer();
    const interrupted = { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "The user doesn't want to proceed with this tool use.", is_error: true }, { type: "text", text: "[Request interrupted by user for tool use]" }] };
    const placeholder = { role: "assistant", content: [{ type: "text", text: "No response requested." }] };
    const resumed = [prompt(SCRIPT), toolUse("t1"), interrupted, placeholder, { role: "user", content: [{ type: "text", text: "Go on." }] }];
    const answer = json(await post(server, "/v1/messages", request(resumed, { stream: false })));
    expect(answer).toMatchObject({ content: [{ type: "text", text: "Fixed it." }] });
    expect(server.log()[0]).toMatchObject({ step: 1, answer: "text" });
  });

  it("answers after a scripted wait", async () => {
    server = await startModelServer();
    const events = sse(await post(server, "/v1/messages", request([prompt("#model wait 0.01\n#model say Waited.")])));
    expect(events[3]?.data["delta"]).toEqual({ type: "text_delta", text: "Waited." });
  });

  it("answers count_tokens and probes instead of 404, and a script it cannot read with 400 naming the line", async () => {
    server = await startModelServer();
    expect(json(await post(server, "/v1/messages/count_tokens", { messages: [{ role: "user", content: "hi" }] }))).toEqual({ input_tokens: 8 });
    expect((await fetch(`${server.url}/`, { method: "HEAD" })).status).toBe(200);
    const bad = await post(server, "/v1/messages", request([prompt("#model explode")]));
    expect(bad.status).toBe(400);
    expect(json(bad)).toMatchObject({ error: { message: expect.stringContaining('"#model explode"') as unknown } });
  });

  it("logs every request as one NDJSON line with its step, status, usage and the steering text", async () => {
    const logPath = path.join(await tempDir(), "log.ndjson");
    server = await startModelServer({ logPath });
    await post(server, "/v1/messages", request([prompt(SCRIPT)]));
    await post(server, "/v1/messages", request([prompt(`${"x".repeat(1000)}\n#model fail 500 once`)]));
    const lines = (await readFile(logPath, "utf8")).trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toEqual(server.log());
    expect(lines[0]).toMatchObject({ api: "anthropic", method: "POST", path: "/v1/messages", model: "claude-opus-5-5", step: 0, status: 200, answer: "shell", tool: "Bash", command: "git commit -qam fix", usage: { input: 1000, output: 50 }, userText: `<system-reminder>context</system-reminder>\n${SCRIPT}` });
    expect(lines[1]).toMatchObject({ status: 500, answer: "error", script: ["#model fail 500 once"] });
    expect(lines[1]?.["usage"]).toBeUndefined();
    expect(String(lines[1]?.["userText"])).toMatch(/^<system-reminder>context<\/system-reminder>\nx+…x+\n#model fail 500 once$/);
  });
});
