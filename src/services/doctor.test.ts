import { execFileSync } from "node:child_process";
import { chmod, chown, mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { CheckId, CheckResult, DoctorReport } from "../core/doctor/checks.ts";
import { ExternalError, UserError } from "../core/errors.ts";
import type { Host } from "../core/host.ts";
import { FakeForge } from "../../test/fakes/forge.ts";
import { fakePorts } from "../../test/fakes/ports.ts";
import { fakeHost } from "../../test/fakes/host.ts";
import { useTempDirs } from "../../test/support/temp-dirs.ts";
import { runDoctor } from "./doctor.ts";
import { openProject } from "./project.ts";
import { LABELS, WORKER_LAYOUT } from "../core/instances/labels.ts";
import type { ContainerCreateSpec } from "../core/devcontainer/create-options.ts";
import type { PortOverrides } from "./project.ts";

const tempDir = useTempDirs("doctor");

const readyHost: Host = fakeHost();

/** A project with a config file and its own (not yet made) run directory; every port fake and healthy. */
async function setup(config: Record<string, unknown> = { project: { name: "demo" } }) {
  const dir = await tempDir();
  await writeFile(path.join(dir, ".cspace.json"), JSON.stringify(config));
  // A git repository with a commit, as a run needs (the preflight's repository check).
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@cspace.invalid", ...args], { cwd: dir });
  git("init", "--quiet");
  git("add", "-A");
  git("commit", "--quiet", "-m", "initial");
  const fakes = fakePorts();
  const forge = new FakeForge();
  const ports = (overrides: PortOverrides = {}): PortOverrides => ({ ...fakes.overrides, forge: () => forge, host: () => readyHost, ...overrides });
  const env = { CSPACE_RUN_DIR: path.join(dir, "run") };
  return { dir, env, fakes, forge, ports, options: { cwd: dir, env } };
}

function check(report: DoctorReport, id: CheckId): CheckResult {
  const found = report.checks.find((candidate) => candidate.id === id);
  if (found === undefined) throw new Error(`no ${id} check in the report`);
  return found;
}

describe("runDoctor on fake ports", () => {
  it("passes every check on a ready machine, in a fixed order, and creates nothing", async () => {
    const { dir, ports, options } = await setup();
    const report = await runDoctor({ ...options, ports: ports() });
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([
      ["docker-engine", "pass"],
      ["base-image", "pass"],
      ["git", "pass"],
      ["node", "pass"],
      ["config", "pass"],
      ["forge", "pass"],
      ["run-dir", "pass"],
      ["workers", "pass"],
      ["repository", "pass"],
      // cspace's own image is not made in the fake engine: a caveat, and the default claude preset's key is not passed.
      ["agent", "warn"],
      ["agent-key", "warn"],
      ["verify", "pass"],
    ]);
    expect(check(report, "docker-engine").detail).toBe("Docker 20.10.24 (API 1.41) at fake://engine");
    expect(check(report, "base-image").detail).toBe("cspace-base:bookworm (8eab8b6af0b2, 443 MB)");
    expect(check(report, "config").detail).toBe('project "demo" from .cspace.json');
    expect(check(report, "run-dir").detail).toMatch(/does not exist yet; warm makes it/);
    expect(await readdir(dir)).toEqual([".cspace.json", ".git"]);
  });

  it("warns of workers made by an older cspace, naming each and the warm that makes it again", async () => {
    const { ports, options, fakes } = await setup();
    const project = await openProject(options);
    const made = (instance: string, labels: Record<string, string>) =>
      fakes.runtime.create({ name: `c-${instance}`, Image: "cspace-base:bookworm", Labels: { [LABELS.project]: project.projectId, [LABELS.instance]: instance, ...labels }, HostConfig: { Mounts: [] } } as unknown as ContainerCreateSpec);
    await made("old", {});
    await made("new", { [LABELS.layout]: WORKER_LAYOUT });
    const report = await runDoctor({ ...options, ports: ports() });
    expect(check(report, "workers")).toMatchObject({
      status: "warn",
      detail: expect.stringMatching(/^made by an older cspace: old \(its container is of layout 1, not 2/) as unknown,
      hint: expect.stringContaining("Run `cspace warm old`") as unknown,
    });
    expect(report.ok).toBe(true);
  });

  it("runs independent checks concurrently", async () => {
    const { ports, options, fakes } = await setup();
    let gitAsked!: () => void;
    const gitCalled = new Promise<void>((resolve) => (gitAsked = resolve));
    // The engine only answers once git has been asked: sequential checks would never finish.
    const engineInfo = fakes.runtime.engineInfo.bind(fakes.runtime);
    fakes.runtime.engineInfo = () => gitCalled.then(engineInfo);
    const host: Host = { ...readyHost, gitVersionOutput: () => (gitAsked(), Promise.resolve("git version 2.40.0")) };
    const report = await runDoctor({ ...options, ports: ports({ host: () => host }) });
    expect(report.ok).toBe(true);
  });

  it("fails the engine with a hint naming DOCKER_HOST, and skips the image", async () => {
    const { ports, options, fakes } = await setup();
    fakes.runtime.down = true;
    const report = await runDoctor({ ...options, env: { ...options.env, DOCKER_HOST: "unix:///tmp/x/nothing.sock" }, ports: ports() });
    expect(report.ok).toBe(false);
    expect(check(report, "docker-engine")).toMatchObject({ status: "fail", detail: expect.stringContaining("the socket does not exist") as unknown });
    expect(check(report, "docker-engine").hint).toMatch(/prepare-machine\.sh.*DOCKER_HOST is set to unix:\/\/\/tmp\/x\/nothing\.sock/);
    expect(check(report, "base-image")).toMatchObject({ status: "skip", detail: "not checked: the Docker engine is unreachable" });
  });

  it("fails a malformed DOCKER_HOST as the engine check, not as a crash", async () => {
    const { ports, options } = await setup();
    const report = await runDoctor({ ...options, ports: ports({ runtime: () => Promise.reject(new UserError('DOCKER_HOST is "ftp://x", which is not a Docker endpoint')) }) });
    expect(check(report, "docker-engine")).toMatchObject({ status: "fail", detail: 'DOCKER_HOST is "ftp://x", which is not a Docker endpoint' });
  });

  it("fails a missing base image with the command that builds it", async () => {
    const { ports, options, fakes } = await setup();
    fakes.runtime.images.clear();
    const report = await runDoctor({ ...options, ports: ports() });
    expect(report.ok).toBe(false);
    expect(check(report, "base-image")).toMatchObject({ status: "fail", detail: "cspace-base:bookworm is not in the engine" });
    expect(check(report, "base-image").hint).toContain("bash scripts/prepare-machine.sh");
  });

  it("requires git 2.38 and Node 22.13", async () => {
    const { ports, options } = await setup();
    const old: Host = { ...readyHost, gitVersionOutput: () => Promise.resolve("git version 2.37.9"), nodeVersion: "22.12.0" };
    const report = await runDoctor({ ...options, ports: ports({ host: () => old }) });
    expect(report.ok).toBe(false);
    expect(check(report, "git")).toMatchObject({ status: "fail", detail: expect.stringContaining("git 2.37.9 is older than 2.38") as unknown });
    expect(check(report, "node")).toMatchObject({ status: "fail", detail: "Node.js 22.12.0 is older than 22.13" });
    const missing = await runDoctor({ ...options, ports: ports({ host: () => ({ ...readyHost, gitVersionOutput: () => Promise.resolve(null) }) }) });
    expect(check(missing, "git")).toMatchObject({ status: "fail", detail: "git is not on PATH" });
  });

  it("fails an invalid config with its message and skips what needs it", async () => {
    const { ports, options } = await setup({ coordinator: { maxParallel: "four" } });
    const report = await runDoctor({ ...options, ports: ports() });
    expect(report.ok).toBe(false);
    expect(check(report, "config")).toMatchObject({ status: "fail", detail: expect.stringContaining("coordinator.maxParallel") as unknown });
    expect(check(report, "forge").status).toBe("skip");
    expect(check(report, "run-dir").status).toBe("skip");
    expect(check(report, "docker-engine").status).toBe("pass");
  });

  it("reports what the forge says of itself, and a forge that cannot be opened as a failed forge check", async () => {
    const { ports, options, forge } = await setup();
    forge.health = [
      { id: "forge", title: "Forge (GitHub acme/app)", status: "pass", required: true, detail: "signed in as ada" },
      { id: "squash-merge", title: "Squash merges", status: "fail", required: true, detail: "acme/app does not allow squash merging" },
    ];
    const report = await runDoctor({ ...options, ports: ports() });
    expect(report.checks.map((c) => c.id)).toEqual(["docker-engine", "base-image", "git", "node", "config", "forge", "squash-merge", "run-dir", "workers", "repository", "agent", "agent-key", "verify"]);
    expect(report.ok).toBe(false);
    const unopened = await runDoctor({ ...options, ports: ports({ forge: () => Promise.reject(new ExternalError("the forge is down", { hint: "try later" })) }) });
    expect(check(unopened, "forge")).toMatchObject({ status: "fail", detail: "the forge is down", hint: "try later" });
  });

  it("fails a run directory too long for socket paths, before creating anything", async () => {
    const { ports, options } = await setup();
    const report = await runDoctor({ ...options, env: { CSPACE_RUN_DIR: `/tmp/${"long".repeat(10)}` }, ports: ports() });
    expect(check(report, "run-dir")).toMatchObject({ status: "fail", detail: expect.stringMatching(/the limit is 107$/) as unknown });
    expect(check(report, "run-dir").hint).toContain("CSPACE_RUN_DIR");
  });

  it.runIf(process.getuid?.() === 0)("fails a run directory someone else prepared and anyone can write", async () => {
    const { ports, options, env } = await setup();
    await mkdir(env.CSPACE_RUN_DIR);
    await chown(env.CSPACE_RUN_DIR, 65534, 65534);
    await chmod(env.CSPACE_RUN_DIR, 0o777);
    const report = await runDoctor({ ...options, ports: ports() });
    expect(report.ok).toBe(false);
    expect(check(report, "run-dir")).toMatchObject({ status: "fail", detail: expect.stringContaining(env.CSPACE_RUN_DIR) as unknown });
  });
});

describe("runDoctor with several hosts (workers.hosts)", () => {
  it("checks each host after the engine, in config order: version, slots and the worker image; a host that does not answer fails naming it", async () => {
    const { ports, options, dir } = await setup({
      project: { name: "demo" },
      container: { devcontainer: "worker.json" },
      workers: { hosts: [{ name: "local", slots: 2 }, { name: "big", docker: "tcp://big.invalid:2376", slots: 12 }, { name: "gone", docker: "unix:///nonexistent.sock" }] },
    });
    await writeFile(path.join(dir, "worker.json"), JSON.stringify({ image: "cspace-base:bookworm" }));
    const hosts = fakePorts({ hosts: ["big"] });
    hosts.runtimes("big")?.images.delete("cspace-base:bookworm");
    const report = await runDoctor({ ...options, ports: ports({ hostRuntime: hosts.overrides.hostRuntime }) });
    const checks = report.checks.filter((c) => c.id === "host");
    expect(report.checks.map((c) => c.id).slice(0, 5)).toEqual(["docker-engine", "base-image", "host", "host", "host"]);
    expect(checks.map((c) => [c.title, c.status])).toEqual([
      ["Host local", "pass"],
      ["Host big", "warn"],
      ["Host gone", "fail"],
    ]);
    expect(checks[0]?.detail).toBe("Docker 20.10.24 (API 1.41) at fake://engine, 2 slots; worker image cspace-base:bookworm is there");
    expect(checks[1]?.detail).toBe("Docker 20.10.24 (API 1.41) at fake://engine, 12 slots; worker image cspace-base:bookworm is not there, and the first warm on it must pull it");
    expect(checks[2]?.detail).toBe("host gone: no engine answers for host gone (no fake runtime was given for it)");
    expect(checks[2]?.hint).toMatch(/engine of host gone/);
    expect(report.ok).toBe(false);
  });

  it("adds no host checks with the default configuration", async () => {
    const { ports, options } = await setup();
    const report = await runDoctor({ ...options, ports: ports() });
    expect(report.checks.some((c) => c.id === "host")).toBe(false);
  });
});
