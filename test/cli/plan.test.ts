import { execFileSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.ts";
import { makeProject, type TempProject } from "../support/temp-project.ts";

interface PlanJson {
  featureBranch: string;
  issues: {
    number: number;
    title: string;
    dependencies: { ref: string; number: number; state: string }[];
    base: string | null;
    action: string;
    waitingOn: (number | string)[];
  }[];
}

const projects: TempProject[] = [];
afterEach(async () => {
  await Promise.all(projects.splice(0).map((project) => project.remove()));
});

async function project(...args: Parameters<typeof makeProject>): Promise<TempProject> {
  const made = await makeProject(...args);
  projects.push(made);
  return made;
}

/** The product's running example: #12 blocked by #10, #13 by #11 and #12. */
const example = {
  10: { title: "Login page" },
  11: { title: "Password reset" },
  12: { title: "Session store", body: "blocked-by: #10\n" },
  13: { title: "Single sign-on", body: "Blocked by #11, #12\n" },
};

function planJson(stdout: string): PlanJson {
  return JSON.parse(stdout) as PlanJson;
}

describe("cspace plan", () => {
  it("plans the example: the roots launch, #12 waits for #10 to push verified work, #13 waits for two", async () => {
    const { dir } = await project({ config: { project: { name: "demo" } }, issues: example });
    const result = runCli(["plan", "--json", "--cwd", dir, "--feature-branch", "feature/login"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const plan = planJson(result.stdout);
    expect(plan.featureBranch).toBe("feature/login");
    expect(plan.issues.map(({ number, base, action, waitingOn }) => ({ number, base, action, waitingOn }))).toEqual([
      { number: 10, base: "feature/login", action: "launch", waitingOn: [] },
      { number: 11, base: "feature/login", action: "launch", waitingOn: [] },
      { number: 12, base: null, action: "wait", waitingOn: [10] },
      { number: 13, base: null, action: "wait", waitingOn: [11, 12] },
    ]);
    expect(plan.issues[3]?.dependencies.map((d) => d.ref)).toEqual(["#11", "#12"]);
    expect(plan.issues[0]?.title).toBe("Login page");
  });

  it("treats a closed dependency as merged and uses the repository's branch by default", async () => {
    const { dir } = await project({
      issues: { 10: { title: "Done already", state: "closed" }, 12: { title: "Next", body: "depends on #10" } },
    });
    execFileSync("git", ["init", "--quiet", "--initial-branch", "trunk", dir]);
    const result = runCli(["plan", "--json", "--cwd", dir]);
    expect(result.status).toBe(0);
    expect(planJson(result.stdout).issues).toMatchObject([
      { number: 12, base: "trunk", action: "launch", dependencies: [{ ref: "#10", state: "closed" }] },
    ]);
  });

  it("waits for a free slot beyond coordinator.maxParallel", async () => {
    const { dir } = await project({
      config: { coordinator: { maxParallel: 1 } },
      issues: { 1: { title: "a" }, 2: { title: "b" } },
    });
    const plan = planJson(runCli(["plan", "--json", "--cwd", dir, "--feature-branch", "main"]).stdout);
    expect(plan.issues.map((issue) => [issue.number, issue.action, issue.waitingOn])).toEqual([
      [1, "launch", []],
      [2, "wait", ["slot"]],
    ]);
  });

  it("selects by number, label and milestone; a milestone names the feature branch", async () => {
    const { dir } = await project({
      issues: {
        1: { title: "a", labels: ["ui"], milestone: "Login v2" },
        2: { title: "b", labels: ["api"], milestone: "Login v2" },
        3: { title: "c", labels: ["ui"] },
      },
    });
    expect(planJson(runCli(["plan", "--json", "--cwd", dir, "--label", "ui"]).stdout).issues.map((i) => i.number)).toEqual([1, 3]);
    const byMilestone = planJson(runCli(["plan", "--json", "--cwd", dir, "--milestone", "Login v2"]).stdout);
    expect(byMilestone.featureBranch).toBe("feature/login-v2");
    expect(byMilestone.issues.map((i) => i.number)).toEqual([1, 2]);
    expect(planJson(runCli(["plan", "3", "#1", "--json", "--cwd", dir]).stdout).issues.map((i) => i.number)).toEqual([1, 3]);
  });

  it("prints a table for people and a mermaid graph for GitHub", async () => {
    const { dir } = await project({ issues: example });
    const table = runCli(["plan", "--cwd", dir, "--feature-branch", "main"]);
    expect(table.status).toBe(0);
    expect(table.stdout).toContain("Feature branch: main");
    expect(table.stdout).toMatch(/#10\s+Login page\s+-\s+main\s+launch\n/);
    expect(table.stdout).toMatch(/#12\s+Session store\s+#10\s+-\s+wait for #10\n/);
    expect(table.stdout).toMatch(/#13\s+Single sign-on\s+#11, #12\s+-\s+wait for #11, #12/);

    const mermaid = runCli(["plan", "--cwd", dir, "--format", "mermaid", "--feature-branch", "main"]);
    const lines = mermaid.stdout.split("\n");
    expect(lines[0]).toBe("graph TD");
    expect(lines).toContain('  i10["#10 Login page<br/>launch on main"]:::launch');
    expect(lines).toContain('  i12["#12 Session store<br/>wait for #10"]:::wait');
    expect(lines).toContain("  i10 --> i12");
    expect(lines).toContain("  i11 --> i13");
    expect(lines).toContain("  i12 --> i13");
  });

  it("exits 2 naming every issue of a dependency cycle", async () => {
    const { dir } = await project({
      issues: {
        10: { title: "a", body: "blocked-by: #13" },
        12: { title: "b", body: "blocked-by: #10" },
        13: { title: "c", body: "blocked-by: #12" },
      },
    });
    const result = runCli(["plan", "--json", "--cwd", dir]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/cycle/i);
    for (const number of ["#10", "#12", "#13"]) expect(result.stderr).toContain(number);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { kind: "user" } });
  });

  it.each([
    [["plan", "99"], /#99/],
    [["plan", "abc"], /"abc" is not an issue number/],
    [["plan", "--format", "xml"], /xml/],
    [["plan", "--no-such-flag"], /unknown option/],
  ])("exits 2 on bad input: %j", async (args, message) => {
    const { dir } = await project({ issues: { 1: { title: "a" } } });
    const result = runCli([...args, "--cwd", dir]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it("exits 2 with a dependency on an issue that does not exist, naming both", async () => {
    const { dir } = await project({ issues: { 1: { title: "a", body: "requires #40" } } });
    const result = runCli(["plan", "--cwd", dir]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/#1\b.*#40|#40.*#1\b/);
  });

  it("explains a missing issues directory and a malformed issue file", async () => {
    const empty = await project({});
    await import("node:fs/promises").then((fs) => fs.rm(`${empty.dir}/.cspace`, { recursive: true }));
    const missing = runCli(["plan", "--cwd", empty.dir]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("no issues directory at .cspace/issues");
    expect(missing.stderr).toContain("cspace init");

    const { dir } = await project({ issues: { 4: { title: "ok" } } });
    await import("node:fs/promises").then((fs) => fs.writeFile(`${dir}/.cspace/issues/5.md`, "---\ntitle: x\nstate: maybe\n---\n"));
    const malformed = runCli(["plan", "--cwd", dir]);
    expect(malformed.status).toBe(2);
    expect(malformed.stderr).toContain(".cspace/issues/5.md");
  });
});
