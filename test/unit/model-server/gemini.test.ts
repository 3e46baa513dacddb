import { afterEach, describe, expect, it } from "vitest";
import type { RunningModelServer } from "../../support/model-server/index.ts";
import { startModelServer } from "../../support/model-server/index.ts";
import { json, post, sse } from "./client.ts";

const SCRIPT = "Fix the bug.\n#model shell git commit -qam fix\n#model say Fixed it.";
const TOOLS = [{ functionDeclarations: [{ name: "read_file" }, { name: "run_shell_command" }] }];
const STREAM = "/v1beta/models/gemini-3.8-flash:streamGenerateContent?alt=sse";

/** A Gemini CLI-like request: its session context, then the prompt. */
function request(contents: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { contents: [{ role: "user", parts: [{ text: "<session_context>cwd</session_context>" }] }, ...contents], tools: TOOLS, ...extra };
}
const user = (text: string) => ({ role: "user", parts: [{ text }] });

describe("model server: Gemini", () => {
  let server: RunningModelServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("streams a functionCall of run_shell_command as one SSE chunk with finishReason and usage", async () => {
    server = await startModelServer();
    const events = sse(await post(server, STREAM, request([user(SCRIPT)])));
    expect(events).toHaveLength(1);
    expect(events[0]?.event).toBeUndefined();
    expect(events[0]?.data).toMatchObject({
      candidates: [{ content: { role: "model", parts: [{ functionCall: { name: "run_shell_command", args: { command: "git commit -qam fix" } } }] }, finishReason: "STOP" }],
      usageMetadata: { promptTokenCount: 1000, candidatesTokenCount: 50, totalTokenCount: 1050 },
    });
  });

  it("answers the next step after the function response, and generateContent as JSON", async () => {
    server = await startModelServer();
    const conversation = [user(SCRIPT), { role: "model", parts: [{ functionCall: { name: "run_shell_command", args: {} } }] }, { role: "user", parts: [{ functionResponse: { name: "run_shell_command", response: {} } }] }];
    const answer = json(await post(server, "/v1beta/models/gemini-3.8-flash:generateContent", request(conversation)));
    expect(answer).toMatchObject({ candidates: [{ content: { role: "model", parts: [{ text: "Fixed it." }] }, finishReason: "STOP" }], modelVersion: "gemini-3.8-flash" });
    expect(server.log()[0]).toMatchObject({ api: "gemini", model: "gemini-3.8-flash", step: 1, answer: "text" });
  });

  it("answers the routing classifier and other schema side calls from the schema, not the script", async () => {
    server = await startModelServer();
    const classifier = {
      type: "OBJECT",
      properties: { complexity_reasoning: { type: "STRING" }, complexity_score: { type: "INTEGER", description: "Complexity score from 1-100." } },
    };
    const nextSpeaker = { type: "object", properties: { reasoning: { type: "string" }, next_speaker: { type: "string", enum: ["model", "user"] } } };
    const loop = { type: "object", properties: { unproductive_state_confidence: { type: "number" } } };
    const answers = [];
    for (const schema of [classifier, nextSpeaker, loop]) {
      const answer = json(await post(server, "/v1beta/models/gemini-3.5-flash-lite:generateContent", request([user(SCRIPT)], { generationConfig: { responseMimeType: "application/json", responseJsonSchema: schema } })));
      const parts = (answer["candidates"] as { content: { parts: { text: string }[] } }[])[0]?.content.parts;
      answers.push(JSON.parse(parts?.[0]?.text ?? "null") as unknown);
    }
    expect(answers).toEqual([{ complexity_reasoning: "scripted", complexity_score: 1 }, { reasoning: "scripted", next_speaker: "user" }, { unproductive_state_confidence: 0 }]);
    expect(server.log().map((entry) => [entry.answer, entry.step])).toEqual([
      ["json", undefined],
      ["json", undefined],
      ["json", undefined],
    ]);
  });

  it("fails with a Google error body, and answers a usage limit as an exhausted quota with the delay to its reset", async () => {
    let now = Date.parse("2026-12-06T14:00:00Z");
    server = await startModelServer({ now: () => now });
    const failed = await post(server, STREAM, request([user("#model fail 503 once\n#model say ok")]));
    expect(failed.status).toBe(503);
    expect(json(failed)).toEqual({ error: { code: 503, message: "Scripted error 503", status: "UNAVAILABLE" } });
    const body = request([user("#model limit 2m\n#model say After.")]);
    const limited = json(await post(server, STREAM, body));
    expect(limited).toMatchObject({ error: { code: 429, status: "RESOURCE_EXHAUSTED", details: [{ violations: [{ quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier" }] }, { retryDelay: "120s" }] } });
    now += 120_000;
    expect(sse(await post(server, STREAM, body))[0]?.data).toMatchObject({ candidates: [{ content: { parts: [{ text: "After." }] } }] });
  });

  it("answers countTokens", async () => {
    server = await startModelServer();
    expect(json(await post(server, "/v1beta/models/gemini-3.8-flash:countTokens", { contents: [] }))).toEqual({ totalTokens: 4 });
  });
});
