import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.ts";
import { makeProject, type TempProject } from "../support/temp-project.ts";

// No engine is needed here: DOCKER_HOST points where nothing listens.

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function project(config: unknown): Promise<TempProject> {
  const made = await makeProject({ config });
  cleanups.push(() => made.remove());
  return made;
}

async function nowhere(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "cspace-nowhere-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const ids = ["docker-engine", "base-image", "git", "node", "config", "forge", "run-dir", "workers", "repository", "agent", "agent-key", "verify"];

describe("cspace doctor", () => {
  it("fails the config check naming the bad key, skips what needs the config, and exits 1", async () => {
    const { dir } = await project({ coordinator: { maxParallel: "four" } });
    const scratch = await nowhere();
    const result = runCli(["doctor", "--json", "--cwd", dir], {
      env: { DOCKER_HOST: `unix://${path.join(scratch, "nothing.sock")}`, CSPACE_RUN_DIR: path.join(scratch, "run") },
    });
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stdout) as { ok: unknown; checks: Record<string, unknown>[] };
    expect(report.ok).toBe(false);
    expect(report.checks.map((check) => check.id)).toEqual(ids);
    for (const check of report.checks) {
      expect(Object.keys(check).filter((key) => key !== "hint")).toEqual(["id", "title", "status", "required", "detail"]);
      expect(["pass", "fail", "warn", "skip"]).toContain(check.status);
    }
    const byId = new Map(report.checks.map((check) => [check.id, check]));
    expect(byId.get("config")).toMatchObject({ status: "fail", required: true });
    expect(byId.get("config")?.detail).toMatch(/\.cspace\.json: coordinator\.maxParallel: .*"four"/);
    expect(byId.get("forge")).toMatchObject({ status: "skip", detail: "not checked: the configuration is invalid" });
    expect(byId.get("run-dir")).toMatchObject({ status: "skip" });
    expect(byId.get("docker-engine")).toMatchObject({ status: "fail" });
    expect(byId.get("base-image")).toMatchObject({ status: "skip" });
    expect(byId.get("git")).toMatchObject({ status: "pass" });
  });

  it("prints a failed check with its hint indented, and the verdict last", async () => {
    const { dir } = await project({ coordinator: { maxParallel: "four" } });
    const scratch = await nowhere();
    const result = runCli(["doctor", "--cwd", dir], { env: { DOCKER_HOST: `unix://${path.join(scratch, "nothing.sock")}` } });
    expect(result.status).toBe(1);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines).toContainEqual(expect.stringMatching(/^✗ Docker engine +no Docker engine at unix:\/\/.*nothing\.sock: the socket does not exist$/));
    expect(lines).toContainEqual(expect.stringMatching(/^- Base image +not checked: the Docker engine is unreachable$/));
    expect(lines).toContainEqual(expect.stringMatching(/^✗ Configuration +.*\.cspace\.json: coordinator\.maxParallel: got "four"/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {4,}hint: Start the engine:/));
    expect(lines[lines.length - 1]).toMatch(/^Not ready: 12 checks: 2 passed, 2 failed, 8 not checked\./);
  });

  it("checks the run directory without creating it (warm makes it)", async () => {
    const { dir } = await project({ project: { name: "rundir" } });
    const scratch = await nowhere();
    const runDir = path.join(scratch, "deep", "run");
    const result = runCli(["doctor", "--json", "--cwd", dir], {
      env: { DOCKER_HOST: `unix://${path.join(scratch, "nothing.sock")}`, CSPACE_RUN_DIR: runDir },
    });
    const report = JSON.parse(result.stdout) as { checks: { id: string; status: string; detail: string }[] };
    expect(report.checks.find((check) => check.id === "run-dir")).toMatchObject({ status: "pass", detail: `${runDir} (from CSPACE_RUN_DIR) does not exist yet; warm makes it (mode 0700)` });
    expect(await readdir(scratch)).toEqual([]);
  });

  it("fails the git repository check outside a git repository, where coordinate could make no worker", async () => {
    const { dir } = await project({ project: { name: "no-repo" }, agent: { preset: "scripted" } });
    const scratch = await nowhere();
    const result = runCli(["doctor", "--json", "--cwd", dir], {
      env: { DOCKER_HOST: `unix://${path.join(scratch, "nothing.sock")}`, CSPACE_RUN_DIR: path.join(scratch, "run") },
    });
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stdout) as { checks: { id: string; status: string; detail: string; hint?: string }[] };
    const repository = report.checks.find((check) => check.id === "repository");
    expect(repository).toMatchObject({ status: "fail", detail: `${dir} is not in a git repository: every worker's checkout is made from the project's repository` });
    expect(repository?.hint).toContain("git init");
    // The image cannot be looked into without an engine: said, not guessed.
    expect(report.checks.find((check) => check.id === "agent")).toMatchObject({ status: "skip", detail: "not checked: the Docker engine is unreachable" });
  });
});
