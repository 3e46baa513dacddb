import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { eventLine, type CoordinatorEvent } from "../../src/core/coordinator/events.ts";
import { explain, issueFile, rowOf, useCoordinateProjects, type CoordinateRun } from "../support/coordinate-project.ts";

/**
 * A failed issue's `issue-N` stays on the forge, and the next run's first
 * launch finds it. Before, that launch took the old branch as it was, on its
 * old base, while the progress line said "started on main". Now a new run
 * replays the old branch's own commits onto the current base and says so,
 * naming the commit the agent starts from; `--fresh N` discards the old
 * branch: the agent starts at the base, and the run's work merges alone.
 */

const project = useCoordinateProjects();

/** A commit on the remote's main by someone else, so the base moves between runs. */
async function moveMain(remote: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "cspace-fresh-start-"));
  try {
    const git = (...args: string[]): string =>
      execFileSync("git", ["-c", "user.name=Someone", "-c", "user.email=someone@example.invalid", ...args], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
    git("clone", "--quiet", remote, ".");
    await writeFile(path.join(dir, "elsewhere.txt"), "merged meanwhile\n");
    git("add", "elsewhere.txt");
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
