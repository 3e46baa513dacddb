import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FIXTURES } from "../agents/drive.ts";
import { allReports, cleanUp, events, makeInstance, startSupervisor, tempDir, waitFor } from "./support.ts";

/**
 * The supervisor running the gemini preset against the Gemini CLI stand-in,
 * which says its API retries on stderr only, as gemini 0.61.0 does
 * (test/fixtures/real-streams/gemini-api-retry.stderr).
 */

afterEach(cleanUp);

describe("the supervisor with the gemini preset", { timeout: 60_000 }, () => {
  it("records each API retry gemini says on stderr as an api-retry event, and keeps its other stderr lines", async () => {
    const env = { PATH: `${FIXTURES}${path.delimiter}${process.env.PATH ?? ""}`, CSPACE_STANDIN_LOG: path.join(tempDir(), "standin.log") };
    const instance = makeInstance("gemini", "Add a.\nstandin: api-retry 500 2");
    startSupervisor(instance.dir, env);
    await waitFor("the report", () => allReports(instance.dir).length === 1);
    const agent = events(instance.dir).filter((e) => e.source === "agent");
    expect(agent.filter((e) => e.type === "api-retry").map((e) => e.text)).toEqual(["API error 500, retry 1", "API error 500, retry 2"]);
    // The lines around each retry (the error's status, its closing brace) are the agent's stderr, as before.
    expect(agent.filter((e) => e.type === "stderr").map((e) => e.text)).toContain("  status: 500");
    expect(agent.some((e) => e.type === "stderr" && (e.text ?? "").startsWith("Attempt "))).toBe(false);
  });
});
