import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCliAsync } from "../support/cli-async.ts";
import { setAllowSquashMerge } from "../support/github-simulator/handlers-repo.ts";
import { startGithubSimulator, type GithubSimulator } from "../support/github-simulator/server.ts";
import { makeProject } from "../support/temp-project.ts";
import { useTempDirs } from "../support/temp-dirs.ts";

// No engine is needed: DOCKER_HOST points where nothing listens, and only the forge checks are asserted.

interface Check {
  id: string;
  title: string;
  status: string;
  detail: string;
  hint?: string;
}

const tempDir = useTempDirs("doctor-github");
let simulator: GithubSimulator;

beforeEach(async () => {
  simulator = await startGithubSimulator({ repo: "octo/widgets" });
});
afterEach(async () => {
  try {
    simulator.assertNoViolations();
  } finally {
    await simulator.close();
  }
});

async function doctor(token: string): Promise<{ status: number | null; checks: Map<string, Check> }> {
  const project = await makeProject({ config: { forge: { type: "github", repo: "octo/widgets" } } });
  const scratch = await tempDir();
  try {
    const result = await runCliAsync(["doctor", "--json", "--cwd", project.dir], {
      env: {
        GITHUB_API_URL: simulator.url,
        GH_TOKEN: token,
        DOCKER_HOST: `unix://${path.join(scratch, "nothing.sock")}`,
        CSPACE_RUN_DIR: path.join(scratch, "run"),
      },
    });
    expect(result.stdout).not.toContain(token);
    const report = JSON.parse(result.stdout) as { checks: Check[] };
    return { status: result.status, checks: new Map(report.checks.map((check) => [check.id, check])) };
  } finally {
    await project.remove();
  }
}

describe("cspace doctor with the GitHub forge (against the simulator)", () => {
  it("signs in, reads the repository and finds squash merges allowed", async () => {
    const { checks } = await doctor(simulator.token);
    expect(checks.get("forge")).toMatchObject({
      title: "Forge (GitHub octo/widgets)",
      status: "pass",
      detail: "signed in as cspace-bot (token from GH_TOKEN); octo/widgets reachable (public) with push access",
    });
    expect(checks.get("squash-merge")).toMatchObject({ status: "pass", detail: "octo/widgets allows squash merging" });
    expect([...checks.keys()]).toEqual(["docker-engine", "base-image", "git", "node", "config", "forge", "squash-merge", "run-dir", "workers", "repository", "agent", "agent-key", "verify"]);
  });

  it("fails when the repository does not allow squash merging, saying where to allow it", async () => {
    setAllowSquashMerge(simulator.world, false);
    const { status, checks } = await doctor(simulator.token);
    expect(status).toBe(1);
    expect(checks.get("forge")?.status).toBe("pass");
    expect(checks.get("squash-merge")).toMatchObject({ status: "fail", detail: "octo/widgets does not allow squash merging; cspace merges every pull request as a squash" });
    expect(checks.get("squash-merge")?.hint).toContain('Tick "Allow squash merging" in Settings → General → Pull Requests on https://github.com/octo/widgets');
  });

  it("fails a refused token without printing it, and skips the squash-merge check", async () => {
    const { status, checks } = await doctor("not-the-token");
    expect(status).toBe(1);
    expect(checks.get("forge")).toMatchObject({ status: "fail", detail: expect.stringContaining("401 Bad credentials") as unknown });
    expect(checks.get("forge")?.hint).toContain("GH_TOKEN");
    expect(checks.get("squash-merge")).toMatchObject({ status: "skip", detail: "not checked: octo/widgets could not be read" });
  });
});
