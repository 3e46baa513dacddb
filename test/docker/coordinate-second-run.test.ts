import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { explain, issueFile, rowOf, useCoordinateProjects } from "../support/coordinate-project.ts";

/**
 * A run that failed an issue keeps its instance (no `--down`): the next run
 * starts that issue's attempt 1 in the same container. The pool marks which
 * attempt it started in an instance so that a launch repeated after a crash
 * adopts its agent instead of starting another; a mark left by the earlier
 * run's attempt 1 must not pass for the new run's, or no agent starts and the
 * attempt is lost ("the agent exited and its supervisor sent no report").
 */

const project = useCoordinateProjects();

describe("cspace coordinate again, after a run that failed an issue and kept its instance", () => {
  it("starts the issue's agent again in the kept container, and merges its new work", { timeout: 600_000 }, async () => {
    const p = await project({
      name: "co-second-run",
      coordinator: { maxAttempts: 1 },
      // main passes (no draft); the first run's draft never does.
      verify: { all: "! grep -qs first-run draft.txt" },
      issues: { 1: issueFile("Finish the feature", "cspace-script: commit draft.txt first-run") },
    });
    const first = await p.coordinate([1], 200_000);
    expect(first.status, explain(first)).toBe(1);
    expect(rowOf(first.report, 1).status).toBe("failed");
    expect(await p.instances()).toEqual(["issue-1"]);

    await writeFile(path.join(p.repo.dir, ".cspace", "issues", "1.md"), issueFile("Finish the feature", "cspace-script: commit draft.txt second-run"));
    const second = await p.coordinate([1], 200_000);
    expect(second.status, explain(second)).toBe(0);
    expect(second.stdout).not.toContain('"type":"WorkerLost"');
    expect(rowOf(second.report, 1)).toMatchObject({ status: "merged", attempts: 1 });
    expect(p.git("show", "main:draft.txt")).toBe("second-run");
  });
});
