import { execFile, execFileSync } from "node:child_process";
import { mkdtemp, readdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { LABELS, WORKER_LAYOUT } from "../../src/core/instances/labels.ts";
import { containerNameFor } from "../../src/core/instances/names.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { cleanEnv, repoRoot, runCli, type CliResult } from "../support/cli.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { testDocker } from "../support/docker.ts";
import { useFixtureRepos } from "../support/fixture-instances.ts";
import { type FixtureRepo } from "../support/fixture-repo.ts";

/**
 * Workers made by the version before this one's hardening, made by that
 * very version: its source (this repository's history) is built into a
 * temporary directory and its `cspace warm` makes the worker — a container
 * with Docker's default capabilities and no no-new-privileges, and a
 * `clone --local` checkout whose object files are hard links to the store's.
 * Containers and checkouts change only when made again, so the new cspace
 * must find such a worker and not keep it silently.
 */

/** The last commit before workers were hardened and checkouts stopped sharing the store's files. */
const OLD_VERSION = "65b20ec";

const runId = inject("cspaceTestRun");
const docker = testDocker();
const fixture = useFixtureRepos(docker, runId);
let oldCspace = "";
let oldDir = "";

beforeAll(async () => {
  oldDir = await mkdtemp(path.join(os.tmpdir(), "cspace-old-version-"));
  const archive = execFileSync("git", ["-C", repoRoot, "archive", "--format=tar", OLD_VERSION], { maxBuffer: 256 * 1024 * 1024 });
  execFileSync("tar", ["-x", "-C", oldDir], { input: archive });
  await symlink(path.join(repoRoot, "node_modules"), path.join(oldDir, "node_modules"));
  // Its own build, as it was released: tsc and the bundles, a minute on a loaded machine.
  await promisify(execFile)("npm", ["run", "build"], { cwd: oldDir, env: { ...process.env, PATH: `${path.join(repoRoot, "node_modules", ".bin")}:${process.env.PATH ?? ""}` }, maxBuffer: 64 * 1024 * 1024 });
  oldCspace = path.join(oldDir, "bin", "cspace");
}, 600_000);

afterAll(async () => {
  if (oldDir !== "") await rm(oldDir, { recursive: true, force: true });
});

/** The old version's `cspace`, run as a user ran it (runCli runs this version's). */
function oldCli(repo: FixtureRepo, args: readonly string[]): CliResult {
  try {
    const stdout = execFileSync(process.execPath, [oldCspace, "--cwd", repo.dir, ...args], { env: { ...cleanEnv(), ...repo.env }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 });
    return { status: 0, stdout, stderr: "" };
  } catch (error) {
    const failed = error as { status: number | null; stdout: string; stderr: string };
    return { status: failed.status, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** Files under the checkout's objects that are the store's own files (the same inode). */
async function sharedWithStore(repo: FixtureRepo, instance: string): Promise<string[]> {
  const data = path.join(repo.dataDir, projectId(repo.projectName, repo.dir));
  const inodes = async (dir: string) => {
    const entries = await readdir(dir, { withFileTypes: true, recursive: true });
    return Promise.all(entries.filter((e) => e.isFile()).map(async (e) => ({ file: path.join(e.parentPath, e.name), ino: (await stat(path.join(e.parentPath, e.name))).ino })));
  };
  const store = new Set((await inodes(path.join(data, "objects.git", "objects"))).map((f) => f.ino));
  return (await inodes(path.join(data, "workspaces", instance, ".git", "objects"))).filter((f) => store.has(f.ino)).map((f) => f.file);
}

describe("a worker made by the version before", () => {
  it("is named by list and doctor; the next warm makes it again, hardened and borrowing the store read-only, keeping the agent's commit and its unsaved file", { timeout: 300_000 }, async () => {
    const repo = await fixture("outdated");
    const made = oldCli(repo, ["warm", "w1"]);
    expect(made.status, made.stderr).toBe(0);
    const oldId = (await docker.getContainer(containerNameFor(projectId(repo.projectName, repo.dir), "w1")).inspect()).Id;
    expect(await sharedWithStore(repo, "w1")).not.toEqual([]);
    // An agent's work in it: a commit, and a file not yet committed.
    const work = oldCli(repo, ["exec", "w1", "--", "sh", "-c", "echo work > agent.txt && git add agent.txt && git -c user.name=A -c user.email=a@example.invalid commit -qm 'the agent' && echo draft > draft.txt"]);
    expect(work.status, work.stderr).toBe(0);

    const listed = runCli(["--cwd", repo.dir, "list"], { env: repo.env });
    expect(listed.status, listed.stderr).toBe(0);
    // list reads the container's labels only; doctor looks at the checkout too.
    expect(listed.stdout).toMatch(/w1 is outdated: its container is of layout 1, not 2: .*`cspace warm w1` makes it again, keeping its work\./);
    const doctor = runCli(["--cwd", repo.dir, "doctor"], { env: repo.env });
    expect(doctor.stdout).toMatch(/Workers +made by an older cspace: w1 \(/);
    expect(doctor.stdout).toMatch(/its checkout shares \d+ object files? with the project's store/);
    expect(doctor.stdout).toContain("Run `cspace warm w1`");

    const warmed = await runCliAsync(["--cwd", repo.dir, "warm", "w1", "--json"], { env: repo.env });
    expect(warmed.status, warmed.stderr).toBe(0);
    expect(warmed.stderr).toContain("w1 was made by an older cspace (");
    const now = await docker.getContainer(containerNameFor(projectId(repo.projectName, repo.dir), "w1")).inspect();
    expect(now.Id).not.toBe(oldId);
    expect(now.Config.Labels[LABELS.layout]).toBe(WORKER_LAYOUT);
    expect(now.HostConfig.CapDrop).toEqual(["ALL"]);
    expect(now.HostConfig.SecurityOpt).toContain("no-new-privileges");
    expect(await sharedWithStore(repo, "w1")).toEqual([]);
    const inside = runCli(["--cwd", repo.dir, "exec", "w1", "--", "sh", "-c", "git log -1 --format=%s && cat draft.txt && git fsck --no-dangling 2>&1 && git ls-remote origin HEAD >/dev/null && echo ok"], { env: repo.env });
    expect(inside.stdout).toBe("the agent\ndraft\nok\n");
    expect(runCli(["--cwd", repo.dir, "list"], { env: repo.env }).stdout).not.toContain("outdated");
  });

  it("with an agent at work in it: warm refuses, saying what to run, and leaves it as it is", { timeout: 300_000 }, async () => {
    const repo = await fixture("outdated-busy");
    const made = oldCli(repo, ["warm", "w1"]);
    expect(made.status, made.stderr).toBe(0);
    const name = containerNameFor(projectId(repo.projectName, repo.dir), "w1");
    const oldId = (await docker.getContainer(name).inspect()).Id;
    // A supervisor at work, as the old one recorded itself: "<pid>\n<start ticks>\n", of a process alive in the container.
    const started = runCli(["--cwd", repo.dir, "exec", "w1", "--", "sh", "-c", "sleep 100000 >/dev/null 2>&1 & echo $! $(cut -d' ' -f22 /proc/$!/stat)"], { env: repo.env });
    const [pid = "", ticks = ""] = started.stdout.trim().split(" ");
    expect(pid).toMatch(/^\d+$/);
    await writeFile(path.join(repo.runDir, "w1", "supervisor.pid"), `${pid}\n${ticks}\n`);

    const warmed = await runCliAsync(["--cwd", repo.dir, "warm", "w1"], { env: repo.env });
    expect(warmed.status, warmed.stderr).toBe(2);
    expect(warmed.stderr).toContain(`instance "w1" is outdated (`);
    expect(warmed.stderr).toContain(`an agent is at work in it (supervisor pid ${pid} in the container)`);
    expect(warmed.stderr).toContain("`cspace warm w1`");
    expect((await docker.getContainer(name).inspect()).Id).toBe(oldId);
    expect(await sharedWithStore(repo, "w1")).not.toEqual([]);
  });
});
