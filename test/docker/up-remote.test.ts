import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { WorkerStatus } from "../../src/core/agents/worker-status.ts";
import { DockerRuntime } from "../../src/adapters/docker/containers.ts";
import { openRelay } from "../../src/adapters/messaging/relay/open-relay.ts";
import { LABELS } from "../../src/core/instances/labels.ts";
import { instancePaths } from "../../src/services/workers/instance-files.ts";
import { askWorker } from "../../src/services/workers/supervisor-client.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { binPath, cleanEnv, repoRoot } from "../support/cli.ts";
import { runCliAsync } from "../support/cli-async.ts";
import type { CliResult } from "../support/cli.ts";
import { listenAsCoordinator } from "../support/coordinator-socket.ts";
import { BASE_IMAGE, testDocker } from "../support/docker.ts";
import { makeFixtureRepo, type FixtureRepo } from "../support/fixture-repo.ts";
import { startRemoteEngine, type RemoteEngine } from "../support/remote-engines.ts";
import { script } from "./worker-fixture.ts";

// `cspace up`, `send`, `status`, `interrupt`, `restart` and `logs -f` on a
// worker placed on an ssh:// engine (test/support/remote-engines.ts: a
// Docker engine in a network namespace of this test's own, behind sshd),
// through the built binary, with no coordinator running: each command
// reaches the worker through a relay (and a mirror) of its own. The remote
// host is listed first, so local-first placement puts every instance there.
// The test looks at the remote engine through its socket only to check.

const runId = inject("cspaceTestRun");
const docker = testDocker();
let remote: RemoteEngine;
let there: Docker;
let repo: FixtureRepo;
let id: string;
const following: ChildProcess[] = [];

beforeAll(async () => {
  remote = await startRemoteEngine("upr");
  there = new Docker({ socketPath: remote.socketPath });
  const big = { name: "big", docker: remote.endpoint, slots: 4, ssh: { identityFile: remote.identityFile, knownHosts: remote.knownHostsFile, socket: remote.socketPath } };
  repo = await makeFixtureRepo({
    projectName: `up-remote-${runId}`.slice(0, 60),
    devcontainer: { image: BASE_IMAGE },
    config: { agent: { preset: "scripted" }, workers: { hosts: [big, { name: "local" }] } },
  });
  id = projectId(repo.projectName, repo.dir);
}, 300_000);

afterAll(async () => {
  for (const child of following) child.kill("SIGKILL");
  const made = { remote, repo } as { remote?: RemoteEngine; repo?: FixtureRepo };
  if (made.repo !== undefined) {
    // Nothing should be here (every instance is placed on the remote host); whatever is, goes.
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    await made.repo.remove();
  }
  // Everything on the remote engine goes with it.
  await made.remote?.stop();
});

const cli = (args: readonly string[], timeoutMs?: number): Promise<CliResult> => runCliAsync(["--cwd", repo.dir, ...args], { env: repo.env, timeoutMs });

const json = (result: CliResult): unknown => {
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
};

async function remoteWorkers(): Promise<string[]> {
  const found = await there.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } });
  return found.map((c) => c.Labels[LABELS.instance] ?? "?").sort();
}

/** `cspace logs <instance> -f --json` running in the background: its event lines as they come, and its end. */
function followLogs(instance: string): { readonly events: { source: string; type: string; text?: string }[]; until(match: (e: { source: string; type: string; text?: string }) => boolean): Promise<void>; readonly exit: Promise<{ status: number | null; stderr: string }> } {
  const child = spawn(process.execPath, [binPath, "--cwd", repo.dir, "logs", instance, "-f", "--json"], { cwd: repoRoot, env: { ...cleanEnv(), ...repo.env }, stdio: ["ignore", "pipe", "pipe"] });
  following.push(child);
  const events: { source: string; type: string; text?: string }[] = [];
  const waiters: (() => void)[] = [];
  let buffer = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    buffer += chunk;
    for (let at = buffer.indexOf("\n"); at >= 0; at = buffer.indexOf("\n")) {
      events.push(JSON.parse(buffer.slice(0, at)) as { source: string; type: string; text?: string });
      buffer = buffer.slice(at + 1);
    }
    for (const wake of waiters.splice(0)) wake();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exit = new Promise<{ status: number | null; stderr: string }>((resolve) => child.on("close", (status) => {
    for (const wake of waiters.splice(0)) wake();
    resolve({ status, stderr });
  }));
  let ended = false;
  void exit.then(() => (ended = true));
  return {
    events,
    exit,
    async until(match) {
      while (!events.some(match)) {
        if (ended) throw new Error(`logs -f ended before the event came: ${stderr}\n${JSON.stringify(events)}`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}

interface Started {
  instance: string;
  host: string;
  remote: boolean;
  status: WorkerStatus;
}

interface Status {
  live: boolean;
  agent: { state: string; label: string };
  status: WorkerStatus | null;
}

describe("an agent on a remote Docker host over SSH, with no coordinator", () => {
  it("up starts it there; logs -f follows it; send and status reach it; the agent exits; down removes it and ends logs -f", async () => {
    const up = json(await cli(["up", "w1", "--agent", "scripted", "--prompt", `Do the work.\n${script("commit one.txt first", "wait-message", "commit two.txt second")}`, "--json"], 180_000)) as Started;
    expect(up).toMatchObject({ instance: "w1", host: "big", remote: true, status: { instance: "w1", branch: "w1" } });
    expect(await remoteWorkers()).toEqual(["w1"]);
    expect(await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } })).toEqual([]);

    const logs = followLogs("w1");
    // The scripted agent's turn ends at wait-message: it is idle, waiting for a message.
    await logs.until((e) => e.source === "agent" && e.type === "turn");
    const idle = json(await cli(["status", "w1", "--json"])) as Status;
    expect(idle).toMatchObject({ live: true, agent: { state: "idle" } });
    // list asks it there too: nothing on this machine knows its agent, and no coordinator copies its files here.
    const listed = json(await cli(["list", "--json"])) as { instances: { instance: string; host: string; agent: { state: string } }[] };
    expect(listed.instances.map((i) => [i.instance, i.host, i.agent.state])).toEqual([["w1", "big", "idle"]]);

    const sent = await cli(["send", "w1", "Please finish: commit the second file."]);
    expect([sent.status, sent.stderr]).toEqual([0, ""]);
    await logs.until((e) => e.source === "supervisor" && e.type === "exited");
    expect(logs.events.filter((e) => e.source === "message").map((e) => [e.type, e.text])).toEqual([
      ["queued", "Please finish: commit the second file."],
      ["delivered", "Please finish: commit the second file."],
    ]);
    expect(logs.events.find((e) => e.source === "supervisor" && e.type === "exited")?.text).toMatch(/^success/);
    // Nobody listened on c.sock: the report stays in the worker's outbox, as for a local worker with no coordinator.
    await logs.until((e) => e.source === "supervisor" && e.type === "report-written");

    const exited = json(await cli(["status", "w1", "--json"])) as Status;
    expect(exited).toMatchObject({ live: true, agent: { label: "exited 0" } });
    const work = await cli(["exec", "w1", "--", "sh", "-c", "git log --format=%s -n 2 --name-only; cat .cspace-messages.log; ls /run/cspace/outbox"]);
    expect(work.status, work.stderr).toBe(0);
    expect(work.stdout).toContain("one.txt");
    expect(work.stdout).toContain("two.txt");
    expect(work.stdout).toContain("Please finish: commit the second file.");
    expect(work.stdout).toMatch(/\.json\n/);
    // A worker's word to the coordinator while none runs: refused as for a local worker (the one-off relays never serve c.sock).
    const said = await cli(["exec", "w1", "--", "cspace", "send", "_coordinator", "anyone there?"]);
    expect(said.status).toBe(3);
    expect(said.stderr).toContain("No coordinator runs for this worker right now");

    const down = await cli(["down", "w1"]);
    expect(down.status, down.stderr).toBe(0);
    // logs -f ends by itself once the worker is gone.
    expect((await logs.exit).status).toBe(0);
    expect(await remoteWorkers()).toEqual([]);
  });

  it("interrupt and restart reach a remote agent; up --follow follows one to its exit", async () => {
    json(await cli(["up", "w2", "--prompt", script("wait-message"), "--json"], 180_000));
    const interrupted = (json(await cli(["interrupt", "w2", "--json"])) as { interrupted: boolean; outcome: string | null });
    expect(interrupted).toMatchObject({ interrupted: true, outcome: "interrupted" });
    const restarted = (json(await cli(["restart", "w2", "--json"], 120_000)) as { stopped: string; status: WorkerStatus });
    expect(restarted.stopped).toBe("shutdown");
    // Two commands at once, each with a relay and a mirror of its own: both answered by the one new supervisor.
    const both = (await Promise.all([cli(["status", "w2", "--json"]), cli(["status", "w2", "--json"])])).map((result) => json(result) as Status);
    expect(both.map((after) => [after.live, after.status?.pid])).toEqual([
      [true, restarted.status.pid],
      [true, restarted.status.pid],
    ]);
    // Exactly one supervisor runs there.
    const ps = await cli(["exec", "w2", "--", "sh", "-c", `for p in /proc/[0-9]*; do { tr '\\0' ' ' < "$p/cmdline"; } 2>/dev/null; echo; done | grep -c '^node /opt/cspace/worker.cjs supervise' || true`]);
    expect(ps.stdout.trim()).toBe("1");

    const followed = await cli(["up", "w3", "--prompt", script("commit a.txt alone"), "--follow"], 180_000);
    expect(followed.status, followed.stderr).toBe(0);
    expect(followed.stdout).toContain("on host big");
    expect(followed.stdout).toMatch(/supervisor +exited +success \(exit 0\)/);
    const again = await cli(["up", "w3", "--prompt", "again"]);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain("already runs a supervisor");
  });

  it("an unknown instance: send says there is none (exit 3), status too (exit 2)", async () => {
    const sent = await cli(["send", "nope", "hello"]);
    expect(sent.status).toBe(3);
    expect(sent.stderr).toContain('there is no instance "nope"');
    const status = await cli(["status", "nope"]);
    expect(status.status).toBe(2);
    expect(status.stderr).toContain('there is no instance "nope"');
  });

  it("beside a coordinator's relay: a command uses the relay that serves w.sock, and its own relay does not take c.sock from the coordinator's", async () => {
    const up = json(await cli(["up", "w4", "--prompt", script("wait-message"), "--json"], 180_000)) as Started;
    expect(up.host).toBe("big");
    const ids = await cli(["exec", "w4", "--", "sh", "-c", "echo $(id -u):$(id -g)"]);
    expect(ids.status, ids.stderr).toBe(0);
    const [container] = await there.listContainers({ filters: { label: [`${LABELS.instance}=w4`, `${LABELS.project}=${id}`] } });
    const runtime = new DockerRuntime({ DOCKER_HOST: `unix://${remote.socketPath}` });
    // A coordinator's relay, as the pool opens one (this process plays the coordinator: its own folder, its c.sock listened on).
    const folder = await mkdtemp(path.join(os.tmpdir(), "cspace-up-remote-"));
    const coordinator = await listenAsCoordinator(path.join(folder, "c.sock"), "w4");
    const coordinators = openRelay({ runtime, containerId: container?.Id ?? "", user: ids.stdout.trim(), hostDir: folder });
    // What serves the project's own w.sock, as a coordinator's relay would there.
    const served = openRelay({ runtime, containerId: container?.Id ?? "", user: ids.stdout.trim(), hostDir: instancePaths(repo.runDir, "w4").dir, coordinatorSocket: false });
    try {
      await Promise.all([coordinators.ready, served.ready]);
      // A command finds the project's w.sock served and uses it: no SSH login of its own.
      const before = await remote.sshConnectionsAccepted();
      const status = json(await cli(["status", "w4", "--json"])) as Status;
      expect(status).toMatchObject({ live: true, agent: { state: "idle" } });
      expect(await remote.sshConnectionsAccepted()).toBe(before);
      await served.close();

      // Now nothing serves it: send opens a relay of its own beside the coordinator's, whose c.sock carries the report.
      const sent = await cli(["send", "w4", script("commit four.txt done")]);
      expect([sent.status, sent.stderr]).toEqual([0, ""]);
      expect(await remote.sshConnectionsAccepted()).toBe(before + 1);
      const report = await coordinator.waitForReport();
      expect(report).toMatchObject({ instance: "w4", outcome: "success", commitsAhead: 1 });
      // And the coordinator's relay still reaches the supervisor.
      const answer = await askWorker(instancePaths(path.dirname(folder), path.basename(folder)), "status", {}, 10_000);
      expect(answer).toMatchObject({ ok: true, status: { state: "exited" } });
      expect(coordinators.stats()).toMatchObject({ state: "up", losses: 0 });
    } finally {
      await served.close();
      await coordinators.close();
      await coordinator.close();
      await rm(folder, { recursive: true, force: true });
    }
  });

  it("with the host's sshd killed, logs -f ends, and send, status, interrupt and restart fail naming the host; nothing hangs", async () => {
    const logs = followLogs("w2");
    await logs.until((e) => e.source === "supervisor");
    await remote.killSshd();
    try {
      // Its copy of the worker's files stops with the connection: it ends by itself rather than wait for ever.
      await logs.exit;
      for (const args of [["send", "w2", "hello"], ["status", "w2"], ["interrupt", "w2"], ["restart", "w2"]]) {
        const result = await cli(args);
        expect([args[0], result.status]).toEqual([args[0], 3]);
        expect(result.stderr).toContain("host big");
      }
    } finally {
      await remote.startSshd();
    }
    const down = await cli(["down", "--all"], 120_000);
    expect(down.status, down.stderr).toBe(0);
    expect(await remoteWorkers()).toEqual([]);
  });
});
