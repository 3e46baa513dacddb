import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, readFile, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import { COORDINATOR_LOCK_FILE } from "../../src/adapters/store/coordinator-lock.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { bootId, probeProcess } from "../../src/shared/process-identity.ts";
import { binPath, cleanEnv, runCli } from "../support/cli.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { explain, issueFile, useCoordinateProjects } from "../support/coordinate-project.ts";
import { testDocker } from "../support/docker.ts";
import { containersOf, useFixtureRepos } from "../support/fixture-instances.ts";
import { type FixtureRepo } from "../support/fixture-repo.ts";

/**
 * The locks a crash leaves, met by the real binary where each is taken: the
 * instance lock and the store lock of `cspace warm`, the coordinator lock of
 * `cspace coordinate`, and `supervisor.pid` in a real worker. A cspace before
 * this one created a lock file, then wrote its owner: a kill -9 between the
 * two left an empty file (a resumed coordinator sat at "warming" for 22
 * minutes behind one). Each command must go on, saying what it broke; a lock
 * a live process holds is named, never waited on in silence.
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();
const fixture = useFixtureRepos(docker, runId);
const children: ChildProcess[] = [];
const coordinateProject = useCoordinateProjects();

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

/** Writes a lock file as a crash left it, a minute ago (a crash is found by the next command, not in the same instant). */
async function leftover(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
  const minuteAgo = new Date(Date.now() - 60_000);
  await utimes(file, minuteAgo, minuteAgo);
}

/** A process that lives until the test kills it, and the lock record that names it as a holder. */
function liveHolder(): { child: ChildProcess; record: string } {
  const child = spawn("sleep", ["100000"], { stdio: "ignore" });
  children.push(child);
  const pid = child.pid ?? 0;
  const record = { pid, host: os.hostname(), token: "held-by-test", startedAt: new Date().toISOString(), bootId: bootId(), startTicks: probeProcess(pid).startTicks };
  return { child, record: `${JSON.stringify(record)}\n` };
}

/** Resolves once `text` appears on the child's stderr; rejects if the child ends first. */
function stderrText(child: ChildProcess, text: string): Promise<void> {
  let seen = "";
  return new Promise((resolve, reject) => {
    child.stderr?.on("data", (chunk: Buffer) => {
      seen += chunk.toString("utf8");
      if (seen.includes(text)) resolve();
    });
    child.stderr?.on("end", () => {
      reject(new Error(`ended before "${text}":\n${seen}`));
    });
  });
}

const dataOf = (repo: FixtureRepo): string => path.join(repo.dataDir, projectId(repo.projectName, repo.dir));

describe("cspace warm and a lock a crash left", () => {
  it("an empty instance lock and a half-written store lock: warm breaks both, says so, and makes the instance", async () => {
    const repo = await fixture("lock-empty");
    await leftover(path.join(dataOf(repo), "locks", "one.lock"), "");
    await leftover(path.join(dataOf(repo), "objects.git.lock"), '{"host":"x","pid":12');

    const warmed = await runCliAsync(["--cwd", repo.dir, "warm", "one"], { env: repo.env });
    expect(warmed.status, warmed.stderr).toBe(0);
    expect(warmed.stderr).toContain(`broke a stale lock ${path.join(dataOf(repo), "locks", "one.lock")}: an empty or unreadable lock`);
    expect(warmed.stderr).toContain(`broke a stale lock ${path.join(dataOf(repo), "objects.git.lock")}: an empty or unreadable lock`);
    expect(await containersOf(docker, repo)).toHaveLength(1);
  });

  it("an instance lock a live process holds: warm says whom it waits for, and goes on once that holder is killed -9", async () => {
    const repo = await fixture("lock-live");
    const holder = liveHolder();
    const lock = path.join(dataOf(repo), "locks", "one.lock");
    await leftover(lock, holder.record);

    const warming = spawn(process.execPath, [binPath, "--cwd", repo.dir, "warm", "one"], { env: { ...cleanEnv(), ...repo.env }, stdio: ["ignore", "pipe", "pipe"] });
    children.push(warming);
    let stderr = "";
    warming.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => warming.once("exit", resolve));
    await stderrText(warming, `waiting for the lock ${lock}, held by process ${String(holder.child.pid)} on ${os.hostname()}, since`);

    holder.child.kill("SIGKILL");
    expect(await exited, stderr).toBe(0);
    expect(stderr).toContain(`broke a stale lock ${lock}: the lock of pid ${String(holder.child.pid)} on ${os.hostname()}, which is no longer running`);
    expect(await containersOf(docker, repo)).toHaveLength(1);
  });
});

describe("cspace coordinate and a lock a crash left", () => {
  it(
    "a half-written coordinator lock, empty instance and store locks and an empty supervisor.pid in the warm worker: the run goes on and merges",
    { timeout: 300_000 },
    async () => {
      const p = await coordinateProject({ name: "co-lock-leftovers", issues: { 1: issueFile("Add a file", "cspace-script: commit one.txt one") } });
      const { repo } = p;
      // The worker exists first (a crash left it warm), so its instance directory is kept and the supervisor meets the file.
      const warmed = runCli(["--cwd", repo.dir, "warm", "issue-1"], { env: repo.env });
      expect(warmed.status, warmed.stderr).toBe(0);
      const data = path.join(repo.dataDir, p.projectId);
      await leftover(path.join(data, COORDINATOR_LOCK_FILE), '{"pid":4');
      await leftover(path.join(data, "locks", "issue-1.lock"), "");
      await leftover(path.join(data, "objects.git.lock"), "");
      await leftover(path.join(repo.runDir, "issue-1", "supervisor.pid"), "");

      const run = await p.coordinate([1], 240_000);
      expect(run.status, explain(run)).toBe(0);
      expect(p.git("show", "main:one.txt")).toBe("one");
      expect(await p.issueState(1)).toBe("closed");
      // Each was broken where it is taken, and said so: the coordinator and warm on stderr, the supervisor in its log.
      for (const lock of [path.join(data, COORDINATOR_LOCK_FILE), path.join(data, "locks", "issue-1.lock"), path.join(data, "objects.git.lock")]) {
        expect(run.stderr).toContain(`broke a stale lock ${lock}: an empty or unreadable lock`);
      }
      expect(await readFile(path.join(repo.runDir, "issue-1", "supervisor.log"), "utf8")).toContain("broke a stale supervisor.pid: an empty or unreadable lock");
    },
  );

  it("a coordinator lock a live process holds: refused at once (exit 2), naming the holder and how to go on", async () => {
    const p = await coordinateProject({ name: "co-lock-live", issues: { 1: issueFile("Add a file", "cspace-script: commit one.txt one") } });
    const holder = liveHolder();
    await leftover(path.join(p.repo.dataDir, p.projectId, COORDINATOR_LOCK_FILE), holder.record);

    const run = await p.coordinate([1]);
    expect(run.status, explain(run)).toBe(2);
    expect(run.stderr).toContain(`a coordinator is already running for this project: process ${String(holder.child.pid)} on ${os.hostname()}`);
    expect(run.stderr).toContain("cspace coordinate --resume");
    expect(await p.instances()).toEqual([]);
  });
});
