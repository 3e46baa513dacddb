import { afterEach, describe, expect, it } from "vitest";
import type { RunningModelServer } from "../../support/model-server/index.ts";
import { startModelServer } from "../../support/model-server/index.ts";
import { json, post, sse } from "./client.ts";

const SCRIPT = "Fix the bug.\n#model shell git commit -qam fix\n#model say Fixed it.";
const TOOLS = [
  { type: "function", name: "update_plan", parameters: {} },
  { type: "function", name: "exec_command", parameters: {} },
];
const user = (text: string) => ({ type: "message", role: "user", content: [{ type: "input_text", text }] });

/** A Codex-like request: developer instructions, its context as a user message, the prompt, streaming. */
function request(input: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model: "gpt-5.5",
    instructions: "You are Codex.",
    input: [{ type: "message", role: "developer", content: [{ type: "input_text", text: "rules" }] }, user("<environment_context>cwd</environment_context>"), ...input],
    tools: TOOLS,
    stream: true,
    ...extra,
  };
}

describe("model server: OpenAI Responses", () => {
  let server: RunningModelServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("streams a function call of exec_command with {cmd}, in the API's event order, usage on response.completed", async () => {
    server = await startModelServer();
    const events = sse(await post(server, "/v1/responses", request([user(SCRIPT)])));
    expect(events.map((event) => event.event)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events.map((event) => event.data["sequence_number"])).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const item = events[5]?.data["item"] as Record<string, unknown>;
    expect(item).toMatchObject({ type: "function_call", name: "exec_command", status: "completed" });
    expect(JSON.parse(String(item["arguments"]))).toEqual({ cmd: "git commit -qam fix" });
    expect(events[6]?.data["response"]).toMatchObject({ status: "completed", output: [item], usage: { input_tokens: 1000, output_tokens: 50, total_tokens: 1050 } });
  });

  it("answers the next step as an assistant message after the function call's output", async () => {
    server = await startModelServer();
    const conversation = [user(SCRIPT), { type: "function_call", name: "exec_command", arguments: "{}", call_id: "c1" }, { type: "function_call_output", call_id: "c1", output: "ok" }];
    const events = sse(await post(server, "/v1/responses", request(conversation)));
    expect(events.map((event) => event.event)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events[4]?.data["delta"]).toBe("Fixed it.");
    expect(events[7]?.data["item"]).toMatchObject({ type: "message", role: "assistant", content: [{ type: "output_text", text: "Fixed it." }] });
  });

  it("uses the shell tool the request offers: shell_command takes a string, shell an argv", async () => {
    server = await startModelServer();
    const viaShellCommand = json(await post(server, "/v1/responses", request([user(SCRIPT)], { stream: false, tools: [{ type: "function", name: "shell_command" }] })));
    expect(viaShellCommand["output"]).toMatchObject([{ type: "function_call", name: "shell_command", arguments: JSON.stringify({ command: "git commit -qam fix" }) }]);
    const viaShell = json(await post(server, "/v1/responses", request([user(SCRIPT)], { stream: false, tools: [{ type: "function", name: "shell" }] })));
    expect(viaShell["output"]).toMatchObject([{ name: "shell", arguments: JSON.stringify({ command: ["bash", "-lc", "git commit -qam fix"] }) }]);
  });

  it("fails with the scripted status and an OpenAI error body, once", async () => {
    server = await startModelServer();
    const body = request([user("#model fail 500 once\n#model say ok")]);
    const failed = await post(server, "/v1/responses", body);
    expect(failed.status).toBe(500);
    expect(json(failed)).toMatchObject({ error: { type: "server_error", message: "Scripted error 500" } });
    expect((await post(server, "/v1/responses", body)).status).toBe(200);
  });

  it("answers a usage limit as Codex reads it (usage_limit_reached with its reset) until the reset", async () => {
    let now = Date.parse("2026-12-06T14:00:00Z");
    server = await startModelServer({ now: () => now });
    const resetsAt = now / 1000 + 600;
    const body = request([user(`#model limit at ${String(resetsAt)}\n#model say After.`)]);
    const limited = await post(server, "/v1/responses", body);
    expect(limited.status).toBe(429);
    expect(json(limited)).toEqual({
      error: { type: "usage_limit_reached", message: "The usage limit has been reached", plan_type: "plus", resets_at: resetsAt, resets_in_seconds: 600 },
    });
    expect(limited.headers.get("x-codex-primary-used-percent")).toBe("100");
    now = resetsAt * 1000;
    expect((await post(server, "/v1/responses", body)).status).toBe(200);
  });
});
