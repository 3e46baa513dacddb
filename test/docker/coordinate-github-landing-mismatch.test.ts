import { describe, expect, it } from "vitest";
import type { CoordinatorEvent, CoordinatorEventType } from "../../src/core/coordinator/events.ts";
import { useGithubProjects } from "../support/coordinate-github.ts";
import { explain, rowOf } from "../support/coordinate-project.ts";

/**
 * On GitHub the merge names only the head: the base can move between
 * cspace's check of the tree and GitHub's squash. The simulator plays that
 * race (a push to main inside the merge request), so the squash commit's
 * tree is not the tree that was verified: the run must say so loudly, merge
 * nothing more, and fail the issues left.
 */

const project = useGithubProjects();

function ofType<T extends CoordinatorEventType>(stdout: string, type: T): Extract<CoordinatorEvent, { type: T }>[] {
  return stdout
    .split("\n")
    .filter((line) => line.startsWith('{"kind":"event"'))
    .map((line) => (JSON.parse(line) as { event: CoordinatorEvent }).event)
    .filter((event): event is Extract<CoordinatorEvent, { type: T }> => event.type === type);
}

describe("a squash commit whose tree is not the verified one, on GitHub (the simulator)", () => {
  it("stops the run: LandingMismatched names both trees, nothing more merges, the issue left fails with the reason, exit 1", async () => {
    const p = await project({
      name: "vtgh-mismatch",
      // One at a time, so the second is still waiting to be verified when the first lands.
      coordinator: { maxAttempts: 1, train: 1 },
      verify: { all: "true" },
      issues: [
        { number: 80, title: "Add one", body: "cspace-script: commit one.txt one" },
        { number: 81, title: "Add two", body: "cspace-script: commit two.txt two" },
      ],
    });
    p.simulator.faults.inject("base-advanced");
    const run = await p.coordinate([80, 81], 240_000);
    expect(run.status, explain(run)).toBe(1);

    const [merged, ...more] = ofType(run.stdout, "Merged");
    expect(more).toEqual([]);
    if (merged === undefined) throw new Error(`nothing merged\n${explain(run)}`);
    const [mismatch] = ofType(run.stdout, "LandingMismatched");
    expect(mismatch).toMatchObject({ issue: merged.issue, squashSha: merged.squashSha });
    // The trees as the simulator's repository has them: the squash holds the push made meanwhile, the verified tree does not.
    expect(mismatch?.squashTree).toBe(p.git("rev-parse", `${merged.squashSha}^{tree}`));
    expect(mismatch?.verifiedTree).not.toBe(mismatch?.squashTree);
    expect(p.git("ls-tree", "--name-only", merged.squashSha)).toMatch(/\.simulator-push-/);

    const other = merged.issue === 80 ? 81 : 80;
    expect(rowOf(run.report, merged.issue).status).toBe("merged");
    expect(rowOf(run.report, other).status).toBe("failed");
    const failed = ofType(run.stdout, "Failed").find((event) => event.issue === other);
    expect(failed?.reason).toContain(`cspace stopped merging: #${String(merged.issue)} landed on main as`);
    expect(p.pulls()).toEqual([
      [`issue-${String(merged.issue)}`, true],
      [`issue-${String(other)}`, false],
    ].sort());
  }, 300_000);
});
