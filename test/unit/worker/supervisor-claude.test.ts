import { writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { FIXTURES } from "../agents/drive.ts";
import { allReports, ask, cleanUp, events, makeInstance, startSupervisor, status, tempDir, waitFor, waitForState } from "./support.ts";

/**
 * The supervisor running the real claude preset against the Claude Code
 * stand-in, which does what claude 2.1.332 was seen to do: total_cost_usd is
 * the session's running total and carries over --resume, each result states
 * its own share in model_usage_since_last_result ($0.0125 a turn here),
 * `system/init` comes at every turn, `system/api_retry` while the API fails,
 * an interrupt ends with a `user` line, and a resume of an unknown session
 * answers with an error result carrying a new session id.
 */

afterEach(cleanUp);

const TURN = 0.0125;

function claudeEnv(): Record<string, string> {
  return { PATH: `${FIXTURES}${path.delimiter}${process.env.PATH ?? ""}`, CSPACE_STANDIN_LOG: path.join(tempDir(), "standin.log") };
}

describe("the supervisor with the claude preset", { timeout: 60_000 }, () => {
  it("counts each turn's cost once: a run's report has its own share, a resumed session's earlier total is not counted again", async () => {
    const env = claudeEnv();
    const instance = makeInstance("claude", "Add a.\nstandin: commit a.txt a");
    startSupervisor(instance.dir, env);
    const [first] = await waitFor("the first report", () => allReports(instance.dir).length === 1 && allReports(instance.dir));
    expect([first?.turns, first?.costUsd]).toEqual([1, TURN]);

    // A message after the agent exited resumes the session in a new process: its total starts at $0.0125, not 0.
    expect(await ask(instance.dir, "send", { text: "Add b.\nstandin: commit b.txt b" })).toMatchObject({ ok: true });
    const reports = await waitFor("the second report", () => allReports(instance.dir).length === 2 && allReports(instance.dir));
    expect(reports.map((r) => [r.turns, r.costUsd])).toEqual([[1, TURN], [1, TURN]]);
    // status is everything this supervisor counted: what the agent spent, to the cent.
    expect(await status(instance.dir)).toMatchObject({ turns: 2, costUsd: 2 * TURN });

    // A restart is a new supervisor resuming the session: it counts only the turns it saw.
    const sessionId = first?.sessionId ?? null;
    expect(sessionId).not.toBeNull();
    expect(await ask(instance.dir, "shutdown")).toMatchObject({ ok: true });
    const again = makeInstance("claude", "Go on.\nstandin: commit c.txt c", { resumeSessionId: sessionId });
    startSupervisor(again.dir, { ...env });
    const [resumed] = await waitFor("the restarted run's report", () => allReports(again.dir).length === 1 && allReports(again.dir));
    expect([resumed?.sessionId, resumed?.turns, resumed?.costUsd]).toEqual([sessionId, 1, TURN]);
  });

  it("prices a token-only agent's turns by coordinator.prices and marks the cost as estimated; without a price it has none", async () => {
    const priced = makeInstance("codex", "Add a.", { tokenPrice: { input: 10, output: 40 } });
    startSupervisor(priced.dir, claudeEnv());
    const [report] = await waitFor("the priced report", () => allReports(priced.dir).length === 1 && allReports(priced.dir));
    // The codex stand-in's turn: 1,200 input and 80 output tokens.
    expect([report?.turns, report?.costUsd, report?.costEstimated]).toEqual([1, 0.0152, true]);
    expect(await status(priced.dir)).toMatchObject({ costUsd: 0.0152, costEstimated: true });
    const unpriced = makeInstance("codex", "Add a.");
    startSupervisor(unpriced.dir, claudeEnv());
    const [plain] = await waitFor("the unpriced report", () => allReports(unpriced.dir).length === 1 && allReports(unpriced.dir));
    expect([plain?.costUsd, plain?.costEstimated]).toEqual([null, undefined]);
  });

  it("after a restart, shows the turns and cost the supervisors before it counted, and reports only its own", async () => {
    const instance = makeInstance("claude", "Go on.\nstandin: commit c.txt c", { priorTurns: 2, priorCostUsd: 2 * TURN });
    startSupervisor(instance.dir, claudeEnv());
    const [report] = await waitFor("the report", () => allReports(instance.dir).length === 1 && allReports(instance.dir));
    expect([report?.turns, report?.costUsd]).toEqual([1, TURN]);
    expect(await status(instance.dir)).toMatchObject({ turns: 3, costUsd: 3 * TURN });
  });

  it("shows one 'started' line per session, not one per turn, and each API retry as it happens", async () => {
    const go = path.join(tempDir(), "go");
    const instance = makeInstance("claude", `First turn.\nstandin: api-retry 529 3\nstandin: wait-file ${go}\nstandin: commit a.txt a`);
    startSupervisor(instance.dir, claudeEnv());
    await waitForState(instance.dir, "working");
    // While the API fails, status says so. The turn is held after its third retry, so status comes to show that one
    // (it may be read first between retries: waiting for one that is shown at all raced with the stand-in's next line).
    const shown = new Set<string>();
    for (let retrying = (await status(instance.dir)).apiRetry; retrying !== "API error 529, retry 3 of 10"; retrying = (await status(instance.dir)).apiRetry) {
      if (retrying !== undefined) shown.add(retrying);
      await sleep(15);
    }
    expect([...shown].every((text) => /^API error 529, retry [12] of 10$/.test(text))).toBe(true);
    // Queued while the first turn is held, so it is a second turn of the same process.
    expect(await ask(instance.dir, "send", { text: "Second turn." })).toMatchObject({ ok: true });
    writeFileSync(go, "");
    await waitFor("the report", () => allReports(instance.dir).length === 1);
    const agent = events(instance.dir).filter((e) => e.source === "agent");
    expect(agent.filter((e) => e.type === "result")).toHaveLength(2);
    expect(agent.filter((e) => e.type === "started")).toHaveLength(1);
    expect((await status(instance.dir)).apiRetry).toBeUndefined();
    expect(agent.filter((e) => e.type === "api-retry").map((e) => e.text)).toEqual(["API error 529, retry 1 of 10", "API error 529, retry 2 of 10", "API error 529, retry 3 of 10"]);
  });

  it("reports an interrupted turn in words, not as the raw JSON line the CLI printed", async () => {
    const instance = makeInstance("claude", "Think for ever.\nstandin: hang");
    startSupervisor(instance.dir, claudeEnv());
    await waitFor("the turn under way", () => events(instance.dir).some((e) => e.type === "started" && e.source === "agent"));
    expect(await ask(instance.dir, "interrupt")).toMatchObject({ ok: true, outcome: "interrupted" });
    const [report] = allReports(instance.dir);
    expect(report?.summary).toBe("[Request interrupted by user]");
  });

  it("marks the report of a supervisor stopped for `cspace restart`, so the coordinator keeps the attempt open", async () => {
    const instance = makeInstance("claude", "Think for ever.\nstandin: hang");
    startSupervisor(instance.dir, claudeEnv());
    await waitFor("the turn under way", () => events(instance.dir).some((e) => e.type === "started" && e.source === "agent"));
    expect(await ask(instance.dir, "shutdown", { text: "restart" })).toMatchObject({ ok: true });
    expect(allReports(instance.dir).map((r) => [r.outcome, r.restarted])).toEqual([["interrupted", true]]);
  });

  it("keeps the session it asked to resume when the CLI answers with an error result under a new session id", async () => {
    const unknown = "0badc0de-0000-4000-8000-000000000000";
    const instance = makeInstance("claude", "Go on.", { resumeSessionId: unknown });
    startSupervisor(instance.dir, claudeEnv());
    const [report] = await waitFor("the report", () => allReports(instance.dir).length === 1 && allReports(instance.dir));
    expect(report?.outcome).toBe("failure");
    expect(report?.sessionId).toBe(unknown);
  });

  it("ends an API error as the CLI does: exit 1 and the error as the summary", async () => {
    const instance = makeInstance("claude", "standin: error");
    startSupervisor(instance.dir, claudeEnv());
    const [report] = await waitFor("the report", () => allReports(instance.dir).length === 1 && allReports(instance.dir));
    expect([report?.outcome, report?.exitCode]).toEqual(["failure", 1]);
    expect(report?.summary).toMatch(/^API Error: 500/);
  });
});
