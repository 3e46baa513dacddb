import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { explain, issueFile, useCoordinateProjects, rowOf } from "../support/coordinate-project.ts";

/**
 * A relaunch onto a branch that already exists on the forge (left by a run
 * killed during a launch, or pushed by a person): the launch takes the branch
 * as it is, while the base the agent's commits are counted from is the
 * forge's current base, which the instance's checkout, warmed earlier, had
 * never fetched. Counting failed, every attempt was judged "no commits" and
 * the agent's work was never pushed.
 */

const project = useCoordinateProjects();

/** Pushes `branch` to the bare remote with one commit of its own (`file` = `text`) on the remote's main. */
async function pushBranch(remote: string, branch: string, file: string, text: string): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "cspace-existing-branch-"));
  try {
    const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=Someone", "-c", "user.email=someone@example.invalid", ...args], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    git("clone", "--quiet", remote, ".");
    git("checkout", "--quiet", "-b", branch);
    await writeFile(path.join(dir, file), text);
    git("add", file);
    git("commit", "--quiet", "-m", `Started ${branch} before the run`);
    git("push", "--quiet", "origin", branch);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("cspace coordinate with an issue's branch already on the forge", () => {
  it("without stacking, #2 (blocked by #1, its branch pre-existing) is counted from a base its checkout has: both are merged, #2's agent's work included", { timeout: 300_000 }, async () => {
    const p = await project({
      name: "co-existing",
      coordinator: { stacking: false, maxAttempts: 2 },
      issues: {
        1: issueFile("Add the first part", "cspace-script: commit first.txt one"),
        2: issueFile("Add the second part", "cspace-script: commit second.txt two", [1]),
      },
    });
    await pushBranch(p.remote, "issue-2", "early.txt", "started before");
    // Two issues one after the other, each warmed, launched, pushed and merged: minutes on a loaded 2-core machine.
    const run = await p.coordinate([1, 2], 240_000);
    expect(run.status, explain(run)).toBe(0);

    const records = await p.pullRequests();
    expect(records.map((pr) => [pr.head, pr.state]).sort()).toEqual([
      ["issue-1", "merged"],
      ["issue-2", "merged"],
    ]);
    // #2's agent's commit reached main, on top of what the branch already had; #1's work is there too.
    expect(p.git("show", "main:second.txt")).toBe("two");
    expect(p.git("show", "main:early.txt")).toBe("started before");
    expect(p.git("show", "main:first.txt")).toBe("one");
    expect(rowOf(run.report, 2).status).toBe("merged");
    expect(rowOf(run.report, 2).failedAttempts).toBe(0);
    for (const n of [1, 2]) expect(await p.issueState(n)).toBe("closed");
  });
});
