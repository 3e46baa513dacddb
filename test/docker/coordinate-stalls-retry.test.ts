import { describe, expect, it } from "vitest";
import type { RunReport } from "../../src/core/coordinator/report.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { explain, issueFile, retryTemplate, rowOf, useCoordinateProjects } from "../support/coordinate-project.ts";
import { isEvent, operate, startCoordinator, type CoordinatorChild, type ProgressLine } from "../support/coordinate-run.ts";

/**
 * The operator's `retry N` and stalls (issue 15), with scripted agents in
 * real containers and `cspace coordinate --json` as a user runs it. Each
 * step is waited for as an event of the run's log, never for a time: the
 * long `sleep`s below only keep an agent busy until the test says otherwise
 * (a skip stops it).
 */

const project = useCoordinateProjects();

function eventsOf(run: CoordinatorChild, type: string, issue: number): ProgressLine["event"][] {
  return run.lines.filter(isEvent(type, issue)).map((line) => line.event);
}

function reportOf(run: CoordinatorChild): RunReport | null {
  const line = run.lines.find((l) => l.kind === "report") as { readonly report?: RunReport } | undefined;
  return line?.report ?? null;
}

function indexOf(run: CoordinatorChild, type: string, issue: number): number {
  return run.lines.findIndex(isEvent(type, issue));
}

describe("cspace send _coordinator \"retry N\"", () => {
  it("an issue that used its attempts gets a fresh one and merges; one working is refused with what it is doing", async () => {
    const p = await project({
      name: "co-retry-cmd",
      coordinator: { maxAttempts: 1 },
      // The operator's retry is the retry template with the last failure: this one commits the fix.
      files: { ".cspace/templates/retry.md.hbs": retryTemplate("fixed.txt", "after the operator's retry") },
      issues: {
        30: issueFile("Fails until retried", "cspace-script: fail 3"),
        // Keeps the run going while the operator acts: skipped at the end.
        31: issueFile("Busy meanwhile", "cspace-script: sleep 900\ncspace-script: commit busy.txt busy"),
      },
    });
    const run = startCoordinator(p, ["30", "31"]);
    await run.waitFor(isEvent("Failed", 30));
    await run.waitFor(isEvent("Launched", 31));

    const refused = await runCliAsync(["--cwd", p.repo.dir, "send", "_coordinator", "retry 31"], { env: p.repo.env });
    expect([refused.status, refused.stderr]).toEqual([2, expect.stringContaining("#31 is working (attempt 1): nothing to retry") as string]);
    const retried = await runCliAsync(["--cwd", p.repo.dir, "send", "_coordinator", "retry 30"], { env: p.repo.env });
    expect([retried.status, retried.stdout, retried.stderr]).toEqual([0, "coordinator: #30 gets a fresh attempt (and coordinator.maxAttempts more); its dependents blocked by it are unblocked\n", ""]);

    await run.waitFor(isEvent("Merged", 30));
    const skipped = await runCliAsync(["--cwd", p.repo.dir, "send", "_coordinator", "skip 31 done with the test"], { env: p.repo.env });
    expect(skipped.status, run.lines.map((l) => JSON.stringify(l).slice(0, 300)).join("\n")).toBe(0);
    const { status, stderr } = await run.exited;
    expect(status, stderr.slice(-3000)).toBe(1);

    expect(indexOf(run, "RetryRequested", 30)).toBeGreaterThan(indexOf(run, "Failed", 30));
    expect(eventsOf(run, "Launched", 30)).toHaveLength(2);
    expect(p.git("show", "main:fixed.txt")).toBe("after the operator's retry");
    expect((await p.pullRequests()).filter((pr) => pr.state === "merged").map((pr) => pr.head)).toEqual(["issue-30"]);
    const row = rowOf(reportOf(run), 30);
    expect([row.status, row.attempts, row.failedAttempts]).toEqual(["merged", 2, 1]);
  }, 300_000);
});

describe("stalls (coordinator.stallMinutes)", () => {
  it("a silent agent is nudged, then its attempt restarted, then it needs you, each recorded in the run's log", async () => {
    const run0 = await project({
      name: "co-stall",
      // 3 seconds of silence per step.
      coordinator: { stallMinutes: 0.05 },
      issues: { 40: issueFile("Sits silent", "cspace-script: sleep 900\ncspace-script: commit never.txt never") },
    });
    const run = startCoordinator(run0, ["40"]);
    await run.waitFor(isEvent("StallNudged", 40));
    await run.waitFor(isEvent("StallRestarted", 40));
    await run.waitFor(isEvent("StallEscalated", 40));
    await operate(run0, "skip 40 stalled");
    const finished = await run.exited;
    expect(finished.status, explain({ status: finished.status, stdout: "", stderr: finished.stderr, report: reportOf(run) })).toBe(1);

    const order = ["StallNudged", "StallRestarted", "StallEscalated"].map((type) => indexOf(run, type, 40));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    const nudged = eventsOf(run, "StallNudged", 40)[0] as { delivered?: boolean } | undefined;
    expect(nudged?.delivered).toBe(true);
    const restarted = eventsOf(run, "StallRestarted", 40)[0] as { error?: string | null } | undefined;
    expect(restarted?.error).toBeNull();
    // The restart carried the same attempt on: one launch, and no attempt ended before the skip.
    expect(eventsOf(run, "Launched", 40)).toHaveLength(1);
    const beforeSkip = run.lines.slice(0, indexOf(run, "Skipped", 40)).filter(isEvent("Reported", 40));
    expect(beforeSkip.map((line) => (line.event as { report?: { restarted?: boolean } }).report?.restarted)).toEqual([true]);
    const row = rowOf(reportOf(run), 40);
    expect(row.stalls).toMatchObject({ restarted: 1, escalated: 1 });
    expect(row.stalls.nudged).toBeGreaterThanOrEqual(1);
  }, 300_000);
});
