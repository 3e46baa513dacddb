import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import { binPath, cleanEnv, runCli, type CliResult } from "../support/cli.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { BASE_IMAGE, testDocker } from "../support/docker.ts";
import { containersOf, workspacesOf, useFixtureRepos } from "../support/fixture-instances.ts";
import { nonRootDockerfile, type FixtureOptions, type FixtureRepo } from "../support/fixture-repo.ts";
import { useTempDirs } from "../support/temp-dirs.ts";

const runId = inject("cspaceTestRun");
const docker = testDocker();
const makeFixture = useFixtureRepos(docker, runId);
const children: ChildProcess[] = [];
const tempDir = useTempDirs("warm-locks");
const dataDirs: string[] = [];

interface Outcome {
  instance: string;
  status: string;
  action: string | null;
  error: { message: string; output: string } | null;
}

const fixture = (name: string, devcontainer: unknown, extra: Partial<FixtureOptions> = {}): Promise<FixtureRepo> => makeFixture(name, { devcontainer, ...extra });

const outcomes = (result: CliResult): Outcome[] => (JSON.parse(result.stdout) as { instances: Outcome[] }).instances;



afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await Promise.all(dataDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Resolves with everything printed so far once `line` appears on the child's stderr. */
function stderrLine(child: ChildProcess, line: string): Promise<void> {
  let text = "";
  return new Promise((resolve, reject) => {
    child.stderr?.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
      if (text.includes(line)) resolve();
    });
    child.stderr?.on("end", () => {
      reject(new Error(`ended before "${line}":\n${text}`));
    });
  });
}

describe("commands on one instance never overlap", () => {
  it("two warms of one instance at once: both succeed, the instance is made once and the second only validates it", async () => {
    const repo = await fixture("lock-twice", { image: BASE_IMAGE, postCreateCommand: "sleep 1" });
    const args = ["--cwd", repo.dir, "warm", "one", "--json"];
    const [a, b] = await Promise.all([runCliAsync(args, { env: repo.env }), runCliAsync(args, { env: repo.env })]);
    expect([a.status, b.status]).toEqual([0, 0]);
    expect([outcomes(a)[0]?.action, outcomes(b)[0]?.action].sort()).toEqual(["created", "validated"]);
    expect(await containersOf(docker, repo)).toHaveLength(1);
    expect(runCli(["--cwd", repo.dir, "down", "one"], { env: repo.env }).status).toBe(0);
  });

  it("down during a warm wins: the warm stops without recreating anything, and nothing of the instance is left", async () => {
    const repo = await fixture("lock-down", { image: BASE_IMAGE, postCreateCommand: "sleep 100000" });
    const warming = spawn(process.execPath, [binPath, "--cwd", repo.dir, "warm", "one", "--json"], { env: { ...cleanEnv(), ...repo.env }, stdio: ["ignore", "pipe", "pipe"] });
    children.push(warming);
    let stdout = "";
    warming.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => warming.once("exit", resolve));
    await stderrLine(warming, "one: postCreate\n");

    const down = await runCliAsync(["--cwd", repo.dir, "down", "one"], { env: repo.env });
    expect(down.status).toBe(0);
    expect(down.stdout).toContain("one: removed container, workspace");
    expect(await exited).toBe(1);
    expect((JSON.parse(stdout) as { instances: Outcome[] }).instances[0]).toMatchObject({ status: "cancelled", error: { message: "removed by cspace down while warming" } });
    expect(await containersOf(docker, repo)).toEqual([]);
    expect(await workspacesOf(repo)).toEqual([]);
  });
});

describe("warm's limits and refusals", () => {
  it("stops a postCreateCommand that outlives container.lifecycleTimeout, naming the step, and leaves nothing", async () => {
    const repo = await fixture("lifecycle-timeout", { image: BASE_IMAGE, postCreateCommand: "sleep 100000" }, { config: { container: { lifecycleTimeout: "3s" } } });
    const result = await runCliAsync(["--cwd", repo.dir, "warm", "slow", "--json"], { env: repo.env });
    expect(result.status).toBe(1);
    expect(outcomes(result)[0]).toMatchObject({
      status: "failed",
      error: { message: "postCreateCommand was still running after 3s (container.lifecycleTimeout); stopped it" },
    });
    expect(await containersOf(docker, repo)).toEqual([]);
    expect(await workspacesOf(repo)).toEqual([]);
  });

  it("outside a git repository: exit 2 before anything is made (no object store, no container)", async () => {
    const dir = await tempDir();
    const dataDir = path.join(dir, "data");
    const result = runCli(["--cwd", dir, "warm", "one"], { env: { CSPACE_DATA_DIR: dataDir, CSPACE_RUN_DIR: path.join(dir, "run") } });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("is not a git repository");
    await expect(stat(dataDir)).rejects.toThrow(/ENOENT/);
  });

  it.runIf(process.getuid?.() === 0)("cspace as root with its data under /root: git works inside as the non-root container user", async () => {
    const repo = await fixture(
      "root-home",
      { build: { dockerfile: "../image/Dockerfile", context: "../image" }, remoteUser: "dev" },
      { files: { "image/Dockerfile": nonRootDockerfile(runId) } },
    );
    // The default data directory of a root cspace, under /root: mode 0700 on the host and in the image alike,
    // so a non-root container user cannot pass through it to anything mounted below it.
    const dataDir = path.join(os.homedir(), ".local", "share", `cspace-test-${runId}`);
    dataDirs.push(dataDir);
    await mkdir(dataDir, { recursive: true });
    const env = { ...repo.env, CSPACE_DATA_DIR: dataDir };
    const warmed = runCli(["--cwd", repo.dir, "warm", "w", "--json"], { env });
    expect(warmed.status, warmed.stderr).toBe(0);
    const inside = runCli(["--cwd", repo.dir, "exec", "w", "--", "sh", "-c", "id -u; git log -1 --format=%H; echo x > x.txt && git add x.txt && git commit -qm inside && git log -1 --format=%s; git fetch -q origin && git rev-parse origin/main"], { env });
    expect(inside.stderr).toBe("");
    // origin is the project's store, mounted read-only where a non-root user reaches it: agents fetch new bases there.
    expect(inside.stdout).toBe(`1000\n${repo.head}\ninside\n${repo.head}\n`);
    expect(runCli(["--cwd", repo.dir, "down", "w"], { env }).status).toBe(0);
  });
});
