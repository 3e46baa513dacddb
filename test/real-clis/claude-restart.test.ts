import { access, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { instancePaths } from "../../src/services/workers/instance-files.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { explain, issueFile, rowOf } from "../support/coordinate-project.ts";
import { until } from "../support/coordinate-run.ts";
import type { LogEntry } from "../support/model-server/index.ts";
import { describeLog } from "./chain-scenario.ts";
import { agentClisImage, MOUNT, useRealCliProjects } from "./real-cli-project.ts";

/**
 * Issue 13, findings 1, 6 and 7, against the real `claude`: a `cspace
 * restart` while the agent is mid-turn is the same attempt (maxAttempts 1
 * still merges), the restarted supervisor resumes the same session, the
 * session's cost is counted once (Claude's total_cost_usd carries over
 * `--resume`), and the report's summary is the agent's answer, not a raw
 * line such as the interrupt's.
 *
 * The agent's one shell step commits, leaves a file, then blocks until the
 * test releases it, so the restart always lands mid-turn; the test waits on
 * files and logs, never on time.
 */

const STARTED = "restart-me";
const RELEASE = "restarted";
/** Tokens per answer: large enough that a cost counted twice shows in cents. */
const USAGE = { input: 100_000, output: 5_000 };
const MODEL = "claude-sonnet-4-5";
/** Claude Code's price for MODEL, dollars per token (in, out). */
const PRICE = { input: 3 / 1e6, output: 15 / 1e6 };

const SCRIPT = [
  `#model usage ${String(USAGE.input)} ${String(USAGE.output)}`,
  `#model shell printf hello > greeting.txt && git add greeting.txt && git commit -qm 'Add the greeting' && touch ${MOUNT}/${STARTED} && until [ -e ${MOUNT}/${RELEASE} ]; do sleep 0.2; done`,
].join("\n");

interface EventLine {
  readonly ts: string;
  readonly source: string;
  readonly type: string;
  readonly text?: string;
  readonly data?: unknown;
}

async function eventsOf(file: string): Promise<EventLine[]> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as EventLine);
}

interface ReportedLine {
  readonly attempt: number;
  readonly report: { readonly outcome: string; readonly restarted?: boolean; readonly summary: string; readonly costUsd: number | null };
}

/** The `Reported` events of the run's NDJSON output: each supervisor's report as the coordinator took it. */
function reportsOf(stdout: string): ReportedLine[] {
  return stdout
    .split("\n")
    .filter((line) => line.startsWith('{"kind":"event"'))
    .map((line) => (JSON.parse(line) as { event: { type: string } & ReportedLine }).event)
    .filter((event) => event.type === "Reported");
}

/** What the answered turn requests cost at Claude's price for MODEL (all on MODEL: claude made no side calls here). */
function costOf(entries: readonly LogEntry[]): number {
  return entries.reduce((sum, e) => sum + (e.usage === undefined ? 0 : e.usage.input * PRICE.input + e.usage.output * PRICE.output), 0);
}

const make = useRealCliProjects();
let image = "";
beforeAll(() => {
  image = agentClisImage();
}, 900_000);

describe("the real claude CLI restarted mid-turn", () => {
  it("resumes the same session in the same attempt, merges with maxAttempts 1, and reports the turns and cost once", async () => {
    const project = await make({
      name: "real-claude-restart",
      cli: "claude",
      image,
      issues: { 1: issueFile("Add the greeting", SCRIPT) },
      agent: { model: MODEL },
      coordinator: { maxAttempts: 1, maxParallel: 1 },
    });
    const running = project.coordinate([1], 420_000);
    const state = { ended: false };
    void running.finally(() => (state.ended = true));
    const exists = (name: string): Promise<boolean> => access(path.join(project.serverDir, name)).then(() => true, () => false);
    await until(async () => state.ended || (await exists(STARTED)), "the agent's shell step under way", 400_000);
    expect(state.ended, "the run ended before the agent's shell step").toBe(false);

    const restartedAt = new Date().toISOString();
    const restarted = await runCliAsync(["--cwd", project.repo.dir, "--json", "restart", "issue-1"], { env: project.repo.env });
    expect(restarted.status, restarted.stderr).toBe(0);
    const resumed = (JSON.parse(restarted.stdout) as { resumedSession: string | null }).resumedSession;
    // If the shell step outlived its agent, it may end now; the resumed session does not need it.
    await writeFile(path.join(project.serverDir, RELEASE), "");
    const run = await running;
    const log = await project.modelLog();
    const events = await eventsOf(instancePaths(project.repo.runDir, "issue-1").events);
    const why = `${explain(run)}\n--- model log\n${describeLog(log)}\n--- worker events\n${events.map((e) => `${e.ts} ${e.source}/${e.type} ${(e.text ?? "").slice(0, 200)}${e.type === "result" ? ` ${JSON.stringify(e.data)}` : ""}`).join("\n")}`;
    expect(run.status, why).toBe(0);

    // The same session, resumed: the first agent's session is the one the second supervisor was started with.
    const sessions = events.filter((e) => e.source === "agent" && e.type === "started").map((e) => e.text);
    expect(resumed, why).not.toBeNull();
    expect(sessions[0], why).toBe(`session ${resumed ?? ""}`);
    const starts = events.filter((e) => e.source === "supervisor" && e.type === "started").map((e) => e.text ?? "");
    expect(starts, why).toHaveLength(2);
    expect(starts[0], why).not.toContain("--resume");
    expect(starts[1], why).toContain(`--resume ${resumed ?? ""}`);
    expect(new Set(sessions), why).toEqual(new Set([`session ${resumed ?? ""}`]));

    // The commit made before the restart reached main, once; the closing answer came from the resumed session.
    expect(project.subjects(), why).toEqual(["Add the greeting (closes #1)"]);
    expect(project.git("show", "main:greeting.txt")).toBe("hello");
    expect((await project.pullRequests()).map((pr) => [pr.head, pr.state])).toEqual([["issue-1", "merged"]]);
    const answered = log.filter((e) => e.api === "anthropic" && e.status === 200 && e.usage !== undefined);
    expect(answered.map((e) => e.model), why).toEqual(answered.map(() => MODEL));
    expect(answered.filter((e) => e.answer === "shell"), why).toHaveLength(1);
    expect(answered.filter((e) => e.answer === "text" && e.time > restartedAt), why).toHaveLength(1);

    // Both supervisors reported for attempt 1: the interrupted one marked as restarted, the resumed one's success.
    const reported = reportsOf(run.stdout);
    expect(reported.map((r) => [r.attempt, r.report.outcome, r.report.restarted ?? false]), why).toEqual([
      [1, "interrupted", true],
      [1, "success", false],
    ]);

    // One attempt, none failed; the turns are claude's results (the interrupted turn's included), each counted once.
    const row = rowOf(run.report, 1);
    const results = events.filter((e) => e.source === "agent" && e.type === "result");
    expect(row.status, why).toBe("merged");
    expect(row.attempts, why).toBe(1);
    expect(row.failedAttempts, why).toBe(0);
    expect(row.turns, why).toBe(results.length);
    expect(run.report?.totals.turns, why).toBe(results.length);
    // The cost is what the model server's answers cost at claude's price, to the cent: each request once. The
    // stopped process may or may not print a result for its turn before it exits (both seen): if not, its spend
    // is in no result's own share, only in the resumed process's total_cost_usd, which carries it over --resume.
    const cents = (dollars: number | null | undefined): number | null => (dollars === null || dollars === undefined ? null : Math.round(dollars * 100));
    expect(cents(row.costUsd), why).toBe(cents(costOf(answered)));
    // And what claude said: its last result's total_cost_usd is the whole session's, carried over --resume.
    const sessionTotal = (results.at(-1)?.data as { totalCostUsd?: number } | undefined)?.totalCostUsd;
    expect(cents(row.costUsd), why).toBe(cents(sessionTotal));
    expect(cents(run.report?.totals.costUsd), why).toBe(cents(costOf(answered)));
    expect(cents(reported.reduce((sum, r) => sum + (r.report.costUsd ?? 0), 0)), why).toBe(cents(costOf(answered)));

    // The attempt's summary is the resumed session's last answer, as claude's result said it: no raw JSON, no interrupt line.
    const summary = reported.at(-1)?.report.summary ?? "";
    expect(summary, why).toBe(results.at(-1)?.text);
    expect(summary.trim().startsWith("{"), why).toBe(false);
    expect(summary, why).not.toContain("[Request interrupted by user]");
  }, 600_000);
});
