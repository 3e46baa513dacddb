import { afterEach, describe, expect, inject, it } from "vitest";
import { runCli, type CliResult } from "../support/cli.ts";
import { testDocker } from "../support/docker.ts";
import { containersOf, workspacesOf } from "../support/fixture-instances.ts";
import { makeFixtureRepo, nonRootDockerfile, type FixtureRepo } from "../support/fixture-repo.ts";

const runId = inject("cspaceTestRun");
const docker = testDocker();
const repos: FixtureRepo[] = [];

interface Outcome {
  instance: string;
  status: string;
  action: string | null;
  commit: string | null;
  error: { message: string; output: string } | null;
}

async function fixture(name: string, devcontainer: unknown, files: Record<string, string> = {}): Promise<FixtureRepo> {
  const repo = await makeFixtureRepo({ projectName: `${name}-${runId}`.slice(0, 60), devcontainer, files });
  repos.push(repo);
  return repo;
}

function cli(repo: FixtureRepo, args: readonly string[]): CliResult {
  return runCli(["--cwd", repo.dir, ...args], { env: repo.env });
}

function outcomes(result: CliResult): Outcome[] {
  return (JSON.parse(result.stdout) as { instances: Outcome[] }).instances;
}



// Each test downs what it made; this proves it did, then cleans up regardless.
afterEach(async () => {
  for (const repo of repos.splice(0)) {
    const left = await containersOf(docker, repo);
    await Promise.all(left.map((id) => docker.getContainer(id).remove({ force: true })));
    const workspaces = await workspacesOf(repo);
    await repo.remove();
    expect({ containers: left, workspaces }).toEqual({ containers: [], workspaces: [] });
  }
});

// A context holding only the Dockerfile: every test builds the same inputs, so the run builds one image.
const DOCKERFILE = { "image/Dockerfile": nonRootDockerfile(runId) };

const dockerfileForm = (runTag: string) => ({
  build: { dockerfile: "../image/Dockerfile", context: "../image" },
  remoteUser: "dev",
  containerEnv: { GREETING: "hello from ${localEnv:CSPACE_TEST_UNSET:containerEnv}" },
  postCreateCommand: { greet: "echo $GREETING > /tmp/greeting", count: ["sh", "-c", "echo x >> /tmp/post-create-count"] },
  postStartCommand: "echo started >> /tmp/post-start-count",
  remoteEnv: { RUN_TAG: runTag },
});

describe("cspace warm against the real engine", () => {
  it("warms several instances in parallel (Dockerfile form, non-root user) that git, env and /run/cspace work in", async () => {
    const repo = await fixture("warm-par", dockerfileForm("t1"), DOCKERFILE);
    const result = cli(repo, ["warm", "w1", "w2", "w3", "--json"]);
    expect(result.stderr).toMatch(/w1: validate/);
    expect(result.status).toBe(0);
    expect(outcomes(result).map((o) => [o.instance, o.status, o.action, o.commit])).toEqual([
      ["w1", "ready", "created", repo.head],
      ["w2", "ready", "created", repo.head],
      ["w3", "ready", "created", repo.head],
    ]);
    const inside = cli(repo, ["exec", "w2", "--", "sh", "-c", 'id -u; pwd; cat /tmp/greeting; echo "$RUN_TAG"; git rev-parse HEAD; touch /run/cspace/w2.probe && echo writable']);
    expect(inside.stderr).toBe("");
    expect(inside.stdout.split("\n")).toEqual(["1000", "/workspaces/repo", "hello from containerEnv", "t1", repo.head, "writable", ""]);
    const commit = cli(repo, ["exec", "w3", "--", "sh", "-c", "echo change > new.txt && git add new.txt && git commit -qm inside && git status --short && git log --format=%s -1"]);
    expect(commit.stdout).toBe("inside\n");
    expect(commit.status).toBe(0);
    expect(cli(repo, ["exec", "w1", "--", "sh", "-c", "exit 7"]).status).toBe(7);

    const down = cli(repo, ["down", "--all"]);
    expect(down.status).toBe(0);
    expect(down.stdout).toContain("w2: removed container, workspace, instance directory");
  });

  it("warms the image form with string and array lifecycle commands as root; warming again only validates", async () => {
    const repo = await fixture("warm-img", {
      image: "cspace-base:bookworm",
      containerEnv: { MODE: "image" },
      postCreateCommand: ["sh", "-c", "echo $MODE > /tmp/mode"],
      postStartCommand: "true",
    });
    const first = cli(repo, ["warm", "i1", "--json"]);
    expect(first.status).toBe(0);
    expect(outcomes(first)[0]).toMatchObject({ status: "ready", action: "created" });
    const again = cli(repo, ["warm", "i1", "--json"]);
    expect(outcomes(again)[0]).toMatchObject({ status: "ready", action: "validated" });
    expect(cli(repo, ["exec", "i1", "--", "sh", "-c", "id -u; cat /tmp/mode"]).stdout).toBe("0\nimage\n");
    expect(cli(repo, ["down", "i1"]).status).toBe(0);
  });

  it("restarts a killed container: postStart runs again, postCreate does not", async () => {
    const repo = await fixture("warm-kill", dockerfileForm("t2"), DOCKERFILE);
    expect(cli(repo, ["warm", "k1"]).status).toBe(0);
    const [id] = await containersOf(docker, repo);
    await docker.getContainer(id ?? "").kill();
    const again = cli(repo, ["warm", "k1", "--json"]);
    expect(again.status).toBe(0);
    expect(outcomes(again)[0]).toMatchObject({ status: "ready", action: "restarted" });
    const counts = cli(repo, ["exec", "k1", "--", "sh", "-c", "wc -l < /tmp/post-create-count; wc -l < /tmp/post-start-count"]);
    expect(counts.stdout).toBe("1\n2\n");
    expect(cli(repo, ["warm", "k1", "--base", "other"]).status).toBe(2);
    cli(repo, ["down", "k1"]);
  });

  it("fails an instance whose postCreateCommand fails, after one retry, with its output tail, leaving nothing", async () => {
    const repo = await fixture("warm-fail", { image: "cspace-base:bookworm", postCreateCommand: "echo installing; echo 'E: no such package' >&2; exit 1" });
    const result = cli(repo, ["warm", "f1", "--json"]);
    expect(result.status).toBe(1);
    expect(outcomes(result)[0]).toMatchObject({
      status: "failed",
      error: { message: "postCreateCommand failed with exit code 1", output: "installing\nE: no such package" },
    });
    expect(result.stderr).toContain("f1: postCreate (attempt 2)");
    expect(await containersOf(docker, repo)).toEqual([]);
  });

  it("refuses a devcontainer.json with features (exit 2) and hostile names, creating nothing", async () => {
    const repo = await fixture("warm-refuse", { image: "cspace-base:bookworm", features: { "ghcr.io/devcontainers/features/node:1": {} } });
    const features = cli(repo, ["warm", "x1"]);
    expect(features.status).toBe(2);
    expect(features.stderr).toContain("features");
    for (const name of ["../x", "a;b", "", "x".repeat(200), "ｉssue-1", "_coordinator", "Issue-1"]) {
      const hostile = cli(repo, ["warm", name]);
      expect(hostile.status, name).toBe(2);
    }
    expect(await containersOf(docker, repo)).toEqual([]);
  });
});
