import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SeedIssue } from "../contract/forge-contract.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { simulatorSeed } from "../support/github-simulator/seed.ts";
import { startGithubSimulator, type GithubSimulator } from "../support/github-simulator/server.ts";
import { useTempDirs } from "../support/temp-dirs.ts";

interface PlanJson {
  featureBranch: string;
  issues: { number: number; title: string; dependencies: { ref: string; state: string }[]; base: string | null; action: string; waitingOn: (number | string)[] }[];
}

const tempDir = useTempDirs("plan-github");
let simulator: GithubSimulator;

beforeEach(async () => {
  simulator = await startGithubSimulator({ repo: "octo/widgets", defaultBranch: "trunk" });
});
afterEach(async () => {
  try {
    simulator.assertNoViolations();
  } finally {
    await simulator.close();
  }
});

/** The running example on GitHub, plus #5 (closed, so merged) that #11 requires. */
const example: readonly SeedIssue[] = [
  { number: 5, title: "Old groundwork", state: "closed" },
  { number: 10, title: "Login page" },
  { number: 11, title: "Password reset", body: "requires #5\n", labels: ["auth"] },
  { number: 12, title: "Session store", body: "blocked-by: #10\n" },
  { number: 13, title: "Single sign-on", body: "Blocked by #11, #12\n", labels: ["auth"] },
];

async function plan(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const dir = await tempDir();
  return runCliAsync(["plan", "--json", "--cwd", dir, "--repo", "octo/widgets", ...args], {
    env: { GITHUB_API_URL: simulator.url, GH_TOKEN: simulator.token, ...env },
  });
}

const operations = () => simulator.requests.map((r) => r.operationId);

describe("cspace plan --repo (GitHub, against the simulator)", () => {
  it("plans every open issue from GitHub on the repository's default branch; a closed dependency counts as merged", async () => {
    await simulatorSeed(simulator).issues(example);
    const result = await plan([]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const parsed = JSON.parse(result.stdout) as PlanJson;
    expect(parsed.featureBranch).toBe("trunk");
    expect(parsed.issues.map(({ number, base, action, waitingOn }) => ({ number, base, action, waitingOn }))).toEqual([
      { number: 10, base: "trunk", action: "launch", waitingOn: [] },
      { number: 11, base: "trunk", action: "launch", waitingOn: [] },
      { number: 12, base: null, action: "wait", waitingOn: [10] },
      { number: 13, base: null, action: "wait", waitingOn: [11, 12] },
    ]);
    expect(parsed.issues[1]?.dependencies).toMatchObject([{ ref: "#5", state: "closed" }]);
    // One listing of open issues, the closed dependency by number, the default branch: nothing else.
    expect(operations().sort()).toEqual(["issues/get", "issues/list-for-repo", "repos/get"]);
    expect(simulator.requests.find((r) => r.operationId === "issues/get")?.path).toBe("/repos/octo/widgets/issues/5");
  });

  it("fetches the dependencies a narrowed selection needs, and names the feature branch without asking for the default", async () => {
    await simulatorSeed(simulator).issues(example);
    const byNumber = await plan(["13", "--feature-branch", "feature/sso"]);
    expect(byNumber.status).toBe(0);
    const parsed = JSON.parse(byNumber.stdout) as PlanJson;
    expect(parsed.featureBranch).toBe("feature/sso");
    expect(parsed.issues).toMatchObject([{ number: 13, action: "wait", waitingOn: [11, 12] }]);
    expect(operations()).not.toContain("repos/get");

    simulator.resetRecords();
    const byLabel = JSON.parse((await plan(["--label", "auth", "--feature-branch", "main"])).stdout) as PlanJson;
    expect(byLabel.issues.map((i) => [i.number, i.action])).toEqual([[11, "launch"], [13, "wait"]]);
    expect(simulator.requests.filter((r) => r.operationId === "issues/list-for-repo").map((r) => r.query.labels ?? null)).toEqual(["auth", null]);
  });

  it("exits 2 naming a dependency that does not exist on GitHub, and an issue number that does not", async () => {
    await simulatorSeed(simulator).issues([{ number: 1, title: "a", body: "blocked-by: #40\n" }]);
    const broken = await plan([]);
    expect(broken.status).toBe(2);
    expect(broken.stderr).toMatch(/#1 depends on #40, which does not exist/);
    const unknown = await plan(["7"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("#7");
  });

  it("exits 2 without a token, naming the variables tried and how to set one", async () => {
    const result = await plan([], { GH_TOKEN: "", PATH: await tempDir() });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("no GitHub token to reach octo/widgets: GH_TOKEN and GITHUB_TOKEN are unset and gh (the GitHub CLI) is not installed");
    expect(result.stderr).toMatch(/GH_TOKEN=<token>.*gh auth login/s);
    expect(simulator.requests).toEqual([]);
  });

  it("exits 3 when GitHub refuses the token, and 2 for a malformed --repo", async () => {
    const refused = await plan([], { GH_TOKEN: "wrong-token" });
    expect(refused.status).toBe(3);
    expect(refused.stderr).not.toContain("wrong-token");
    const malformed = await runCliAsync(["plan", "--cwd", await tempDir(), "--repo", "not a repo"]);
    expect(malformed.status).toBe(2);
    expect(malformed.stderr).toContain("flag --repo");
  });
});
