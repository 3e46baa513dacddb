import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/core/errors.ts";
import { issuePrompt, startIssue } from "../../../src/services/workers/issue.ts";
import { FakeForge } from "../../fakes/forge.ts";
import { issue } from "../../fakes/issues.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";
import { workerProject } from "./worker-project.ts";

const tempDir = useTempDirs("issue-start");

async function setUp(forge: FakeForge, config: Record<string, unknown> = {}) {
  const project = await workerProject(await tempDir(), { verify: { all: "npm test", e2e: "npm run e2e" }, coordinator: { featureBranch: "feature/login" }, ...config });
  project.ports.workspaces.branches.set("feature/login", "b".repeat(40));
  const ports = { ...project.ports.overrides, forge: () => forge };
  return { project, ports };
}

describe("cspace issue", () => {
  it("renders the implementer prompt with the issue, its merged dependency, branches and verify commands, and starts issue-<N> on the plan's base", async () => {
    const forge = new FakeForge({ repo: "octo/app" }).addIssues([
      issue(10, { title: "Schema", state: "closed" }),
      issue(12, { title: "Login form", body: "Build the login form.", labels: ["ui"], deps: [10] }),
    ]);
    const { project, ports } = await setUp(forge);
    const result = await startIssue({ cwd: project.cwd, env: project.env, issue: 12, ports });
    expect(result).toMatchObject({ issue: 12, instance: "issue-12", branch: "issue-12", base: "feature/login" });
    expect(result.prompt).toContain("Login form");
    expect(result.prompt).toContain("Build the login form.");
    expect(result.prompt).toContain("issue-12");
    expect(result.prompt).toContain("feature/login");
    expect(result.prompt).toContain("npm test");
    expect(result.prompt).toContain("#10");
    expect(result.prompt).toContain("https://github.com/octo/app/issues/12");
    expect(project.running()).toHaveLength(1);
    expect(project.supervisors[0]?.launch).toMatchObject({ instance: "issue-12", branch: "issue-12", base: "feature/login" });
  });

  it("refuses an issue that must wait, naming what it waits for (exit 2), before starting anything", async () => {
    const forge = new FakeForge().addIssues([issue(10), issue(11), issue(12, { deps: [10, 11] })]);
    const { project, ports } = await setUp(forge);
    const refused = startIssue({ cwd: project.cwd, env: project.env, issue: 12, ports });
    await expect(refused).rejects.toThrow(UserError);
    await expect(refused).rejects.toThrow("issue #12 must wait for #10, #11");
    expect(project.ports.runtime.calls).toEqual([]);
  });

  it("refuses a closed issue", async () => {
    const forge = new FakeForge().addIssues([issue(3, { state: "closed" })]);
    const { project, ports } = await setUp(forge);
    await expect(issuePrompt({ cwd: project.cwd, env: project.env, issue: 3, ports })).rejects.toThrow("issue #3 is closed");
  });
});
