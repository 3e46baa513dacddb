import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LABELS } from "../../src/core/instances/labels.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { checkoutVolumeName, mirrorVolumeName } from "../../src/core/workspaces/transport.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { binPath, cleanEnv, repoRoot } from "../support/cli.ts";
import { testDocker } from "../support/docker.ts";
import { startRemoteEngine, type RemoteEngine } from "../support/remote-engines.ts";

/**
 * `cspace demo --workers <file>` with its workers spread over three engines:
 * the local one and two remote ones over SSH (test/support/remote-engines.ts,
 * each in a network namespace of its own). Once the agents are at work, one
 * remote engine's sshd is killed, then the demo itself with -9 (its
 * coordinator with it), and sshd started again. `cspace coordinate --resume`
 * in the demo's project merges every issue, and `down --all --purge` leaves
 * nothing of the project on any engine: no worker, no mirror keeper, no
 * mirror or checkout volume.
 */

const docker = testDocker();
let engineA: RemoteEngine;
let engineB: RemoteEngine;
let scratch: string;

beforeAll(async () => {
  [engineA, engineB] = await Promise.all([startRemoteEngine("demoa"), startRemoteEngine("demob")]);
  scratch = await mkdtemp(path.join(os.tmpdir(), "cspace-demo-remote-"));
}, 300_000);

afterAll(async () => {
  const made = { engineA, engineB, scratch } as { engineA?: RemoteEngine; engineB?: RemoteEngine; scratch?: string };
  await Promise.all([made.engineA?.stop(), made.engineB?.stop()]);
  if (made.scratch !== undefined) await rm(made.scratch, { recursive: true, force: true });
});

const hostOf = (engine: RemoteEngine, name: string) => ({
  name,
  docker: engine.endpoint,
  slots: 2,
  ssh: { identityFile: engine.identityFile, knownHosts: engine.knownHostsFile, socket: engine.socketPath },
});

/** The instances whose containers the engine made since `since` (seconds), from its event history. */
interface Line {
  readonly kind: string;
  readonly event?: { readonly type: string; readonly issue?: number; readonly host?: string };
}

describe("cspace demo over three engines", () => {
  it("merges every issue with workers on each engine through a killed sshd and a killed coordinator, and leaves nothing behind on any", async () => {
    const workersFile = path.join(scratch, "hosts.json");
    await writeFile(workersFile, `${JSON.stringify({ placement: "spread", hosts: [{ name: "local", slots: 2 }, hostOf(engineA, "a"), hostOf(engineB, "b")] })}\n`);
    const dir = path.join(scratch, "demo");
    const env = { ...cleanEnv(), TMPDIR: scratch, CSPACE_DATA_DIR: path.join(scratch, "data"), CSPACE_RUN_DIR: path.join(scratch, "run") };
    const child = spawn(process.execPath, [binPath, "demo", "--issues", "7", "--dir", dir, "--workers", workersFile, "--json"], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
    const lines: Line[] = [];
    let stderr = "";
    let partial = "";
    let launched = 0;
    const fault: { done: Promise<void> | null } = { done: null };
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      partial += chunk;
      const complete = partial.split("\n");
      partial = complete.pop() ?? "";
      for (const text of complete.filter((t) => t.trim() !== "")) {
        const line = JSON.parse(text) as Line;
        lines.push(line);
        // Once three agents are at work (spread: each engine has one), A's sshd dies, then the demo (and its coordinator) with -9.
        if (line.event?.type === "Launched" && ++launched === 3) {
          fault.done = engineA.killSshd().then(() => {
            child.kill("SIGKILL");
          });
        }
      }
    });
    const exit = await new Promise<NodeJS.Signals | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (_status, signal) => {
        resolve(signal);
      });
    });
    expect(fault.done, `three agents were launched\n${stderr.slice(-3000)}`).not.toBeNull();
    await fault.done;
    expect(exit).toBe("SIGKILL");
    await engineA.startSshd();

    // The run goes on where it stopped, in the demo's project, from any terminal.
    const project = path.join(dir, "project");
    const resumed = await runCliAsync(["--cwd", project, "coordinate", "--resume", "--json"], { env });
    const trouble = new Set(["Failed", "WorkerLost", "Retried", "ActionFailed", "WarmFailed", "Blocked"]);
    const resumedLines = resumed.stdout
      .split("\n")
      .filter((text) => text.trim() !== "")
      .map((text) => JSON.parse(text) as Line);
    const seen = resumedLines
      .filter((line) => trouble.has(line.event?.type ?? ""))
      .map((line) => JSON.stringify(line).slice(0, 600))
      .join("\n");
    expect(resumed.status, `${seen}\n${resumed.stderr.slice(-3000)}`).toBe(0);
    // Seven squash commits above the demo's own.
    const merged = execFileSync("git", ["--git-dir", path.join(dir, "remote.git"), "log", "--oneline", "main"], { encoding: "utf8" }).trim().split("\n");
    expect(merged).toHaveLength(8);

    const name = (JSON.parse(await readFile(path.join(project, ".cspace.json"), "utf8")) as { project: { name: string } }).project.name;
    const id = projectId(name, project);
    const down = await runCliAsync(["--cwd", project, "down", "--all", "--purge"], { env });
    expect(down.status, down.stderr).toBe(0);
    // Each engine ran some of the workers (spread: the run's own record of where each instance was made, over both runs),
    // and none of them holds anything of the project now.
    const madeOn = new Set([...lines, ...resumedLines].flatMap((line) => (line.event?.type === "Warmed" && line.event.host !== undefined ? [line.event.host] : [])));
    expect([...madeOn].sort()).toEqual(["a", "b", "local"]);
    for (const engine of [engineA, engineB]) {
      const there = new Docker({ socketPath: engine.socketPath });
      expect(await there.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } })).toEqual([]);
      const volumes = (await there.listVolumes()).Volumes.map((v) => v.Name);
      expect(volumes.filter((volume) => volume === mirrorVolumeName(id) || volume.startsWith(checkoutVolumeName(id, "")))).toEqual([]);
    }
    expect(await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } })).toEqual([]);
  }, 900_000);
});
