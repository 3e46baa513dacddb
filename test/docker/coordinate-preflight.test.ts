import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { presetNamed } from "../../src/core/agents/presets/index.ts";
import { explain, issueFile, useCoordinateProjects, type CoordinateProject } from "../support/coordinate-project.ts";

/**
 * Issue 15's first-run traps, met by `cspace coordinate` itself: it checks
 * what the run needs before it makes anything, and refuses with every
 * finding (exit 2): no container, no branch on the forge, no run recorded.
 */

const project = useCoordinateProjects();

/** Nothing of a run: no container of the project, only main on the forge, no event log. */
function expectNothingMade(p: CoordinateProject, containers: readonly string[]): void {
  expect(containers).toEqual([]);
  expect(p.git("for-each-ref", "--format=%(refname)", "refs/heads")).toBe("refs/heads/main");
  expect(existsSync(path.join(p.repo.dataDir, p.projectId, "coordinator.db"))).toBe(false);
}

describe("cspace coordinate checks what the run needs before it starts", () => {
  it("refuses the claude preset in an image without claude or npm, and verify.all \"npm test\" without npm: exit 2, nothing made", async () => {
    const p = await project({ name: "preflight-image", issues: { 1: issueFile("One", "cspace-script: commit a.txt one") }, agent: { preset: "claude" }, verify: { all: "npm test" } });
    const run = await p.coordinate([1], 120_000);
    expect(run.status, explain(run)).toBe(2);
    const spec = presetNamed("claude")?.npmPackage ?? "";
    expect(run.stderr).toContain("the run cannot start; nothing was made");
    expect(run.stderr).toContain(`Agent: claude: claude is not on the container user's PATH in cspace-base:bookworm, and the image has no npm to install ${spec} with`);
    expect(run.stderr).toContain(`Verify commands: "npm test" needs npm, not on the container user's PATH in cspace-base:bookworm`);
    expectNothingMade(p, await p.instances());
  }, 180_000);

  it("refuses outside a git repository: exit 2, nothing made", async () => {
    const p = await project({ name: "preflight-repo", issues: { 1: issueFile("One", "cspace-script: commit a.txt one") } });
    await rm(path.join(p.repo.dir, ".git"), { recursive: true, force: true });
    const run = await p.coordinate([1], 120_000);
    expect(run.status, explain(run)).toBe(2);
    expect(run.stderr).toContain(`Git repository: ${p.repo.dir} is not in a git repository`);
    expectNothingMade(p, await p.instances());
  }, 180_000);
});
