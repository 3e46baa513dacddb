import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { presetNamed } from "../../src/core/agents/presets/index.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { testDocker } from "../support/docker.ts";
import { containersOf, useFixtureRepos } from "../support/fixture-instances.ts";
import { runCli, type CliResult } from "../support/cli.ts";
import { makeProject, type TempProject } from "../support/temp-project.ts";

interface Check {
  id: string;
  title: string;
  status: "pass" | "fail" | "warn" | "skip";
  required: boolean;
  detail: string;
  hint?: string;
}

interface Report {
  ok: boolean;
  checks: Check[];
}

let project: TempProject;
let scratch: string;

beforeAll(async () => {
  // A project a run could start in: a git repository with a commit, an image that has the scripted agent's node.
  project = await makeProject({ config: { project: { name: "doctor-test" }, agent: { preset: "scripted" }, container: { devcontainer: "worker.json" } } });
  await writeFile(path.join(project.dir, "worker.json"), `${JSON.stringify({ image: "cspace-base:bookworm" })}\n`);
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@cspace.invalid", ...args], { cwd: project.dir });
  git("init", "--quiet");
  git("add", "-A");
  git("commit", "--quiet", "-m", "initial");
  scratch = await mkdtemp(path.join(os.tmpdir(), "cspace-doctor-"));
});

afterAll(async () => {
  await project.remove();
  await rm(scratch, { recursive: true, force: true });
});

function doctor(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliResult {
  return runCli(["doctor", ...args, "--cwd", project.dir], { env: { CSPACE_RUN_DIR: path.join(scratch, "run"), ...env } });
}

function report(result: CliResult): Report {
  return JSON.parse(result.stdout) as Report;
}

function check(parsed: Report, id: string): Check {
  const found = parsed.checks.find((candidate) => candidate.id === id);
  if (found === undefined) throw new Error(`no ${id} check in ${JSON.stringify(parsed)}`);
  return found;
}

describe("cspace doctor against the real engine", () => {
  it("reports the engine with its version and the base image as present, and passes in a proper project", () => {
    const result = doctor(["--json"]);
    const parsed = report(result);
    expect(check(parsed, "docker-engine")).toMatchObject({ status: "pass", required: true });
    expect(check(parsed, "docker-engine").detail).toMatch(/^Docker \d+\.\d+\.\d+\S* \(API 1\.\d+\) at unix:\/\//);
    expect(check(parsed, "base-image")).toMatchObject({ status: "pass" });
    expect(check(parsed, "base-image").detail).toMatch(/^cspace-base:bookworm \([0-9a-f]{12}, \d+ MB\)$/);
    expect(parsed.checks.filter((c) => c.status !== "pass")).toEqual([]);
    expect(check(parsed, "config").detail).toBe('project "doctor-test" from .cspace.json');
    expect(check(parsed, "run-dir").detail).toBe(`${path.join(scratch, "run")} (from CSPACE_RUN_DIR) does not exist yet; warm makes it (mode 0700)`);
    expect(parsed.ok).toBe(true);
    expect(result.status).toBe(0);
  });

  it("prints one marked line per check for people", () => {
    const result = doctor([]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^✓ Docker engine +Docker \d/m);
    expect(result.stdout).toMatch(/^✓ Base image +cspace-base:bookworm/m);
    expect(result.stdout).toMatch(/^Ready: 12 checks: 12 passed\.$/m);
  });

  it("fails fast with a hint when DOCKER_HOST names a socket where nothing listens, and skips the image", () => {
    const dockerHost = `unix://${path.join(scratch, "nowhere", "nothing.sock")}`;
    const result = doctor(["--json"], { DOCKER_HOST: dockerHost });
    const parsed = report(result);
    expect(result.status).toBe(1);
    expect(parsed.ok).toBe(false);
    expect(check(parsed, "docker-engine")).toMatchObject({ status: "fail", detail: `no Docker engine at ${dockerHost}: the socket does not exist` });
    expect(check(parsed, "docker-engine").hint).toContain(`DOCKER_HOST is set to ${dockerHost}`);
    expect(check(parsed, "base-image")).toMatchObject({ status: "skip", detail: "not checked: the Docker engine is unreachable" });
  });

  describe("with a socket that accepts connections and never answers", () => {
    let silent: Server;
    let socket: string;
    const sockets: Socket[] = [];
    beforeAll(async () => {
      socket = path.join(scratch, "silent.sock");
      // Holds every connection open and answers nothing, like a hung engine.
      silent = createServer((connection) => sockets.push(connection));
      await new Promise<void>((resolve) => silent.listen(socket, resolve));
    });
    afterAll(async () => {
      for (const connection of sockets) connection.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    it("gives up after its short timeout instead of hanging", () => {
      const result = doctor(["--json"], { DOCKER_HOST: `unix://${socket}` });
      expect(result.status).toBe(1);
      expect(check(report(result), "docker-engine").detail).toBe(`no Docker engine at unix://${socket}: no answer within 3 s`);
    });
  });
});

describe("cspace doctor looks into the worker image, as coordinate will", () => {
  const runId = inject("cspaceTestRun");
  const docker = testDocker();
  const fixture = useFixtureRepos(docker, runId);

  it("fails the claude preset where the image has no claude and no npm to install it, and verify.all \"npm test\" without npm; leaves no container", async () => {
    const repo = await fixture("doctor-image", { config: { agent: { preset: "claude" }, verify: { all: "npm test" } } });
    const result = await runCliAsync(["doctor", "--json", "--cwd", repo.dir], { env: repo.env });
    const parsed = report(result);
    expect(result.status, result.stderr).toBe(1);
    expect(parsed.ok).toBe(false);
    const spec = presetNamed("claude")?.npmPackage ?? "";
    expect(check(parsed, "agent")).toMatchObject({
      status: "fail",
      detail: `claude: claude is not on the container user's PATH in cspace-base:bookworm, and the image has no npm to install ${spec} with`,
    });
    expect(check(parsed, "agent").hint).toContain(`RUN npm install -g ${spec}`);
    expect(check(parsed, "verify")).toMatchObject({ status: "fail", detail: `"npm test" needs npm, not on the container user's PATH in cspace-base:bookworm` });
    expect(check(parsed, "repository")).toMatchObject({ status: "pass" });
    // The agent's key is a caveat, never a refusal: a login mounted into the container would do.
    expect(check(parsed, "agent-key")).toMatchObject({ status: "warn", required: false });
    expect(result.stdout).not.toContain("cspace-base:bookworm: not checked");
    expect(await containersOf(docker, repo)).toEqual([]);
  }, 120_000);

  it("passes the same project once the image has what the run needs (node for the scripted agent, sh for its verify)", async () => {
    const repo = await fixture("doctor-image-ok", { config: { agent: { preset: "scripted" }, verify: { all: "sh check.sh && node -e 1" } } });
    const parsed = report(await runCliAsync(["doctor", "--json", "--cwd", repo.dir], { env: repo.env }));
    expect(check(parsed, "agent")).toMatchObject({ status: "pass", detail: "scripted: node is in cspace-base:bookworm" });
    expect(check(parsed, "verify")).toMatchObject({ status: "pass", detail: "sh, node in cspace-base:bookworm" });
    expect(await containersOf(docker, repo)).toEqual([]);
  }, 120_000);
});
