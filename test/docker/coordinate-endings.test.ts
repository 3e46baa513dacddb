import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { containerNameFor } from "../../src/core/instances/names.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { explain, issueFile, useCoordinateProjects, rowOf, type CoordinateProject } from "../support/coordinate-project.ts";
import { startCoordinator, type ProgressLine } from "../support/coordinate-run.ts";

/**
 * Every run ends (issue 12, items 7 and 8), on the local forge with scripted
 * agents in real containers: a title git refuses fails its issue with the
 * action and git's error instead of being retried for ever; a verify that
 * hangs is ended by `verify.timeout` (its process killed in the container);
 * a skip during a hanging verify ends the run.
 */

const project = useCoordinateProjects();

/** A verify that hangs only on a branch that has `hang.txt`: the other issues pass it. */
const HANGS_ON_MARK = "if [ -f hang.txt ]; then sleep 100000; fi";

/** The command lines of the processes running in the instance's container. */
function processesIn(p: CoordinateProject, instance: string): string {
  const script = 'for p in /proc/[0-9]*; do { tr "\\000" " " <"$p/cmdline"; } 2>/dev/null; echo; done';
  return execFileSync("docker", ["exec", containerNameFor(p.projectId, instance), "/bin/sh", "-c", script], { encoding: "utf8" });
}

describe("every run ends", () => {
  it("a title git refuses (a NUL byte): that issue fails naming the action and git's error; the other merges", async () => {
    const p = await project({
      name: "co-nul-title",
      issues: {
        30: issueFile('"Refused \\0 title"', "cspace-script: commit refused.txt refused"),
        31: issueFile("Add the accepted file", "cspace-script: commit accepted.txt accepted"),
      },
    });
    const run = await p.coordinate([30, 31], 240_000);
    expect(run.status, explain(run)).toBe(1);
    expect(rowOf(run.report, 30).status, explain(run)).toBe("failed");
    expect(rowOf(run.report, 30).reason).toMatch(/^Merge failed 6 times in a row: .*NUL byte/);
    expect(rowOf(run.report, 31).status).toBe("merged");
    expect(p.subjects()).toEqual([expect.stringMatching(/^Add the accepted file \(closes #31\)$/)]);
  }, 300_000);

  it("a verify that hangs past verify.timeout is ended, its process killed, and counts as failed with the reason", async () => {
    const p = await project({
      name: "co-verify-timeout",
      verify: { all: HANGS_ON_MARK, timeout: "5s" },
      coordinator: { maxAttempts: 1 },
      issues: {
        32: issueFile("Hang the verify", "cspace-script: commit hang.txt hang"),
        33: issueFile("Pass the verify", "cspace-script: commit pass.txt pass"),
      },
    });
    const run = await p.coordinate([32, 33], 180_000);
    expect(run.status, explain(run)).toBe(1);
    expect(rowOf(run.report, 32).status, explain(run)).toBe("failed");
    expect(rowOf(run.report, 32).reason).toContain(`${HANGS_ON_MARK} did not finish: verify timed out after 5s`);
    expect(rowOf(run.report, 33).status).toBe("merged");
    // The instance is kept for inspection: nothing of the verify runs in it any more.
    expect(processesIn(p, "issue-32")).not.toContain("sleep 100000");
  }, 240_000);

  it("a skip while the issue's verify hangs stops the verify, and the run ends", async () => {
    const p = await project({
      name: "co-verify-skip",
      verify: { all: HANGS_ON_MARK },
      issues: {
        34: issueFile("Hang the verify for ever", "cspace-script: commit hang.txt hang"),
        35: issueFile("Pass the verify too", "cspace-script: commit pass.txt pass"),
      },
    });
    const run = startCoordinator(p, ["34", "35"]);
    await run.waitFor((line) => line.kind === "action" && (line as ProgressLine & { action?: { type?: string; issue?: number } }).action?.type === "Verify" && (line as { action?: { issue?: number } }).action?.issue === 34);
    const skipped = await runCliAsync(["--cwd", p.repo.dir, "send", "_coordinator", "skip 34 its verify hangs"], { env: p.repo.env });
    expect(skipped.status, skipped.stderr).toBe(0);
    const { status, stderr } = await run.exited;
    expect(status, stderr.slice(-3000)).toBe(1);
    const report = run.lines.find((line) => line.kind === "report") as { report?: { rows: { issue: number; status: string }[] } } | undefined;
    expect(report?.report?.rows.map((row) => [row.issue, row.status])).toEqual([[34, "blocked"], [35, "merged"]]);
    expect(processesIn(p, "issue-34")).not.toContain("sleep 100000");
  }, 240_000);
});
