import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { eventLine, type CoordinatorEvent } from "../../src/core/coordinator/events.ts";
import type { RunReport } from "../../src/core/coordinator/report.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { explain, issueFile, rowOf, useCoordinateProjects, type CoordinateRun } from "../support/coordinate-project.ts";
import { isEvent, operate, startCoordinator, type CoordinatorChild } from "../support/coordinate-run.ts";

/**
 * A failed issue's `issue-N` stays on the forge, and the next run's first
 * launch finds it. Before, that launch took the old branch as it was, on its
 * old base, while the progress line said "started on main". Now a new run
 * replays the old branch's own commits onto the current base and says so,
 * naming the commit the agent starts from; `--fresh N` discards the old
 * branch: the agent starts at the base, and the run's work merges alone.
 * `reset N` to a running coordinator does the same for an issue that has
 * already started (and failed) in the run.
 */

const project = useCoordinateProjects();

/** A commit on the remote's main by someone else (`file`, "merged meanwhile"), so the base moves between runs or during one. */
async function moveMain(remote: string, file = "elsewhere.txt"): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "cspace-fresh-start-"));
  try {
    const git = (...args: string[]): string =>
      execFileSync("git", ["-c", "user.name=Someone", "-c", "user.email=someone@example.invalid", ...args], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
    git("clone", "--quiet", remote, ".");
    await writeFile(path.join(dir, file), "merged meanwhile\n");
    git("add", file);
    git("commit", "--quiet", "-m", "Meanwhile on main");
    git("push", "--quiet", "origin", "main");
    return git("rev-parse", "HEAD");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The first launch's `Launched` event of the issue, and its progress line, from the run's NDJSON. */
function firstLaunch(run: CoordinateRun, issue: number): { readonly event: Extract<CoordinatorEvent, { type: "Launched" }>; readonly line: string } {
  for (const text of run.stdout.split("\n")) {
    if (!text.startsWith('{"kind":"event"')) continue;
    const { event } = JSON.parse(text) as { event: CoordinatorEvent };
    if (event.type === "Launched" && event.issue === issue && event.attempt === 1) return { event, line: eventLine(event) ?? "" };
  }
  throw new Error(`no first launch of #${String(issue)}\n${explain(run)}`);
}

const short = (sha: string): string => sha.slice(0, 7);

describe("cspace coordinate on an issue an earlier run failed", () => {
  it("carries the old issue-N over onto the moved base, saying from which commit; --fresh discards it and the new work merges alone", { timeout: 600_000 }, async () => {
    // verify fails while old.txt is there: the first run's work can never pass.
    const p = await project({
      name: "co-fresh",
      coordinator: { maxAttempts: 1 },
      verify: { all: "test ! -f old.txt" },
      issues: { 1: issueFile("Add the feature", "cspace-script: commit old.txt first-run") },
    });
    const first = await p.coordinate([1], 200_000, ["--down"]);
    expect(first.status, explain(first)).toBe(1);
    expect(rowOf(first.report, 1).status).toBe("failed");
    const oldHead = p.git("rev-parse", "issue-1");
    expect(p.git("show", "issue-1:old.txt")).toBe("first-run");

    // Meanwhile main moves on, and the issue is reworded. (Each run ends with --down, as after `cspace down issue-1`:
    // the branch on the forge is what carries over, not the instance.)
    const main = await moveMain(p.remote);
    await writeFile(path.join(p.repo.dir, ".cspace", "issues", "1.md"), issueFile("Add the feature", "cspace-script: commit new.txt second-run"));

    // Without --fresh: the old commit is replayed onto today's main; the agent starts there, on top of it.
    const carried = await p.coordinate([1], 200_000, ["--down"]);
    expect(carried.status, explain(carried)).toBe(1);
    const start = firstLaunch(carried, 1);
    const replayed = p.git("rev-parse", "issue-1~1");
    expect(start.event.headSha).toBe(replayed);
    expect(start.event.start).toEqual({ kind: "restacked", commits: 1 });
    expect(start.line).toContain(`started on issue-1 at ${short(replayed)}: the earlier run's 1 commit, replayed onto main at ${short(main)}`);
    expect(p.git("rev-parse", "issue-1~2")).toBe(main);
    expect(p.git("log", "-1", "--format=%s", "issue-1~1")).toBe(p.git("log", "-1", "--format=%s", oldHead));
    expect(p.git("show", "issue-1:old.txt")).toBe("first-run");
    expect(p.git("show", "issue-1:new.txt")).toBe("second-run");

    // With --fresh 1: issue-1 goes back to main on the forge and in the worker; the agent's work alone merges.
    const fresh = await p.coordinate([1], 200_000, ["--fresh", "1", "--down"]);
    expect(fresh.status, explain(fresh)).toBe(0);
    const restart = firstLaunch(fresh, 1);
    expect(restart.event.headSha).toBe(main);
    expect(restart.event.start).toEqual({ kind: "fresh", commits: 2 });
    expect(restart.line).toContain(`started on main at ${short(main)}, fresh: the earlier run's issue-1 and its 2 commits discarded`);
    expect(rowOf(fresh.report, 1).status).toBe("merged");
    expect(p.git("show", "main:new.txt")).toBe("second-run");
    expect(() => p.git("show", "main:old.txt")).toThrow();
    expect(p.git("show", "main:elsewhere.txt")).toBe("merged meanwhile");
    // The pull request the first run opened was reused for the new work, not left beside it.
    expect((await p.pullRequests()).map((pr) => [pr.head, pr.state])).toEqual([["issue-1", "merged"]]);
  });

  it("refuses --fresh for an issue the run does not select, exit 2, before starting anything", { timeout: 120_000 }, async () => {
    const p = await project({ name: "co-fresh-bad", issues: { 1: issueFile("Add the feature", "cspace-script: commit a.txt a") } });
    const run = await p.coordinate([1], 60_000, ["--fresh", "7"]);
    expect(run.status).toBe(2);
    expect(run.stderr + run.stdout).toContain("--fresh names #7, not in this run (#1)");
    const again = await p.coordinate([1], 60_000, ["--fresh", "one"]);
    expect(again.status).toBe(2);
    expect(again.stderr + again.stdout).toContain('--fresh expects issue numbers, not "one"');
  });
});

/** The event of the run's `--json` lines that matches, as recorded. */
function eventOf(run: CoordinatorChild, match: (event: CoordinatorEvent) => boolean): CoordinatorEvent {
  for (const line of run.lines) {
    const event = line.event as CoordinatorEvent | undefined;
    if (line.kind === "event" && event !== undefined && match(event)) return event;
  }
  throw new Error(`no such event in:\n${run.lines.map((l) => JSON.stringify(l).slice(0, 200)).join("\n")}`);
}

describe("cspace send _coordinator \"reset N\" for an issue that started in this run", () => {
  it("discards its pushed branch and starts it again from the feature branch as it is now; it merges from a history without the discarded commit", { timeout: 600_000 }, async () => {
    // The agent's approach (old.txt) fails verify until the feature branch has ready.txt, which lands while the run goes on.
    const p = await project({
      name: "co-reset",
      coordinator: { maxAttempts: 1 },
      verify: { all: "test ! -f old.txt || test -f ready.txt" },
      issues: {
        30: issueFile("Add the feature", "cspace-script: commit old.txt the-approach"),
        // Keeps the run going while the operator acts: skipped at the end.
        31: issueFile("Busy meanwhile", "cspace-script: sleep 900\ncspace-script: commit busy.txt busy"),
      },
    });
    const run = startCoordinator(p, ["30", "31"]);
    await run.waitFor(isEvent("Failed", 30));
    const pushed = eventOf(run, (event) => event.type === "Pushed" && event.issue === 30);
    if (pushed.type !== "Pushed") throw new Error("unreachable");
    const discarded = pushed.headSha;
    expect(p.git("rev-parse", "issue-30")).toBe(discarded);

    // Someone lands the missing piece on main; the operator starts #30 over from there.
    const main = await moveMain(p.remote, "ready.txt");
    const reset = await runCliAsync(["--cwd", p.repo.dir, "send", "_coordinator", "reset 30"], { env: p.repo.env });
    expect([reset.status, reset.stdout, reset.stderr]).toEqual([0, "coordinator: #30 is reset: its work is discarded; it starts again from its base with the implementer prompt, and coordinator.maxAttempts more\n", ""]);

    await run.waitFor(isEvent("Merged", 30));
    await operate(p, "skip 31 done with the test");
    const { status, stderr } = await run.exited;
    expect(status, stderr.slice(-3000)).toBe(1);

    // The relaunch started at main's head now, and says what it discarded.
    const relaunch = eventOf(run, (event) => event.type === "Launched" && event.issue === 30 && event.attempt === 2);
    if (relaunch.type !== "Launched") throw new Error("unreachable");
    expect([relaunch.why, relaunch.prompt.kind, relaunch.headSha, relaunch.start]).toEqual(["initial", "implementer", main, { kind: "fresh", commits: 1 }]);
    expect(eventLine(relaunch)).toBe(`#30 attempt 2 (initial) started on main at ${short(main)}, reset: issue-30's 1 commit discarded`);
    expect(eventLine(eventOf(run, (event) => event.type === "ResetRequested"))).toBe("#30 reset by the operator: its work is discarded and it starts again from its base");

    // Judged by the forge's history: the merged head sits on main's new head, and the discarded commit is not in it.
    const merged = eventOf(run, (event) => event.type === "Merged" && event.issue === 30);
    if (merged.type !== "Merged") throw new Error("unreachable");
    expect(p.git("rev-parse", `${merged.headSha}~1`)).toBe(main);
    expect(p.git("rev-list", merged.headSha).split("\n")).not.toContain(discarded);
    expect(p.git("rev-list", "main").split("\n")).not.toContain(discarded);
    expect(p.git("show", "main:ready.txt")).toBe("merged meanwhile");
    expect(p.git("show", "main:old.txt")).toBe("the-approach");
    // One pull request, the first attempt's, reused for the new work and merged.
    expect((await p.pullRequests()).filter((pr) => pr.head === "issue-30").map((pr) => pr.state)).toEqual(["merged"]);
    const report = run.lines.find((line) => line.kind === "report") as { readonly report?: RunReport } | undefined;
    const row = rowOf(report?.report ?? null, 30);
    expect([row.status, row.attempts, row.failedAttempts]).toEqual(["merged", 2, 1]);
  });
  it("a working issue: its agent is interrupted, and a new agent starts it again from main, then merges with only its own commit", { timeout: 600_000 }, async () => {
    const p = await project({
      name: "co-reset-working",
      // Each agent commits, then waits for a message before it finishes: the first is reset while it waits.
      issues: { 32: issueFile("Works until told", "cspace-script: commit wip.txt wip\ncspace-script: wait-message") },
    });
    const run = startCoordinator(p, ["32"]);
    await run.waitFor(isEvent("Launched", 32));
    await operate(p, "reset 32");
    await run.waitFor((line) => isEvent("Launched", 32)(line) && (line.event as { attempt?: number }).attempt === 2);
    const told = await runCliAsync(["--cwd", p.repo.dir, "send", "issue-32", "go on"], { env: p.repo.env });
    expect(told.status, told.stderr).toBe(0);
    const { status, stderr } = await run.exited;
    expect(status, stderr.slice(-3000)).toBe(0);

    // The first agent was stopped by the reset (an interrupted report, no failure), and the second started at main's head.
    const stopped = eventOf(run, (event) => event.type === "Reported" && event.issue === 32 && event.attempt === 1);
    if (stopped.type !== "Reported") throw new Error("unreachable");
    expect(stopped.report.outcome).toBe("interrupted");
    const relaunch = eventOf(run, (event) => event.type === "Launched" && event.issue === 32 && event.attempt === 2);
    if (relaunch.type !== "Launched") throw new Error("unreachable");
    const base = relaunch.baseSha ?? "";
    expect([relaunch.why, relaunch.prompt.kind, relaunch.headSha]).toEqual(["initial", "implementer", base]);
    expect(eventLine(relaunch)).toBe(`#32 attempt 2 (initial) started on main at ${short(base)}, reset: issue-32 starts at its base`);
    // What merged is the second agent's one commit on main, not the first agent's on top of it or beside it.
    const merged = eventOf(run, (event) => event.type === "Merged" && event.issue === 32);
    if (merged.type !== "Merged") throw new Error("unreachable");
    expect(p.git("rev-list", `${base}..${merged.headSha}`).split("\n")).toHaveLength(1);
    expect(merged.headSha).not.toBe(stopped.report.headSha);
    const report = run.lines.find((line) => line.kind === "report") as { readonly report?: RunReport } | undefined;
    const row = rowOf(report?.report ?? null, 32);
    expect([row.status, row.attempts, row.failedAttempts]).toEqual(["merged", 2, 0]);
  });
});
