import { spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { WorkerStatus } from "../../src/core/agents/worker-status.ts";
import { binPath, cleanEnv } from "../support/cli.ts";
import { listenAsCoordinator } from "../support/coordinator-socket.ts";
import { docker, listed, script, supervisorCount, waitForEvent, waitingForMessage, workerFixture, type WorkerFixture } from "./worker-fixture.ts";

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const WAITING = script("commit one.txt first", "wait-message");

async function upWaiting(f: WorkerFixture, instance: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const up = await f.cli(["up", instance, "--prompt", WAITING], env);
  expect(up.stderr).not.toContain("error");
  expect(up.status).toBe(0);
  await waitForEvent(f.paths(instance), waitingForMessage);
}

async function state(f: WorkerFixture, instance: string): Promise<WorkerStatus & { agent: { pid: number } | null }> {
  return JSON.parse(await readFile(f.paths(instance).state, "utf8")) as WorkerStatus & { agent: { pid: number } | null };
}

describe("worker faults on the real engine", () => {
  it("restart leaves exactly one supervisor: after a shutdown, and after killing one that does not answer", async () => {
    const f = await workerFixture("wf-restart", cleanups);
    await upWaiting(f, "r1");
    const first = (await state(f, "r1")).pid;
    const restarted = await f.cli(["restart", "r1", "--reason", "stuck on a prompt", "--json"]);
    expect(restarted.status).toBe(0);
    const result = JSON.parse(restarted.stdout) as { stopped: string; resumedSession: string | null; status: WorkerStatus };
    expect(result).toMatchObject({ stopped: "shutdown", resumedSession: null });
    expect(result.status.pid).not.toBe(first);
    expect(await supervisorCount(f, "r1")).toBe(1);
    // The scripted agent cannot resume: it got the original prompt with the reason, and starts over.
    await waitForEvent(f.paths("r1"), (e) => e.type === "started" && e.source === "supervisor" && (e.data as { pid?: number } | undefined)?.pid !== undefined && Date.parse(e.ts) > Date.parse(result.status.startedAt) - 1000);

    // A supervisor that stops answering (SIGSTOP) is killed by its recorded pid; still one afterwards.
    await waitForEvent(f.paths("r1"), waitingForMessage);
    const hung = (await state(f, "r1")).pid;
    await f.sh("r1", `kill -STOP ${String(hung)}`);
    const again = await f.cli(["restart", "r1", "--json"]);
    expect(again.stderr).toBe("");
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ stopped: "SIGKILL" });
    expect(await supervisorCount(f, "r1")).toBe(1);
    const status = JSON.parse((await f.cli(["status", "r1", "--json"])).stdout) as { live: boolean; status: WorkerStatus };
    expect(status.live).toBe(true);
    expect([first, hung]).not.toContain(status.status.pid);
  });

  it("a worker reaches only its own sockets, and cannot speak for another instance", async () => {
    const f = await workerFixture("wf-isolation", cleanups);
    expect((await f.cli(["warm", "a1", "b1"])).status).toBe(0);
    const coordinators = await Promise.all(["a1", "b1"].map((i) => listenAsCoordinator(f.paths(i).coordinatorSocket, i)));
    cleanups.push(async () => { await Promise.all(coordinators.map((c) => c.close())); });
    const [a, b] = coordinators;
    await upWaiting(f, "a1");
    await upWaiting(f, "b1");

    // Only its own directory is mounted: b1's directory (and the run directory) do not exist in a1's container.
    const mounts = (await docker.getContainer((await f.containers()).find((c) => c.name.endsWith("-a1"))?.id ?? "").inspect()).Mounts;
    expect(mounts.filter((m) => m.Source.startsWith(f.repo.runDir)).map((m) => [m.Source, m.Destination])).toEqual([[f.paths("a1").dir, "/run/cspace"]]);
    const seen = await f.sh(
      "a1",
      `ls -A /run/cspace | tr '\\n' ' '; echo; for p in ${f.paths("b1").workerSocket} ${f.paths("b1").coordinatorSocket} ${f.paths("b1").dir} ${f.repo.runDir}; do test -e "$p" && echo "visible $p"; done; ` +
        `node -e 'const s = require("net").createConnection(process.argv[1]); s.on("error", (e) => { console.log(e.code); }); s.on("connect", () => { console.log("connected"); s.destroy(); })' ${f.paths("b1").workerSocket}`,
    );
    const [listing = "", ...rest] = seen.trim().split("\n");
    expect(listing.split(" ").filter((n) => n !== "")).toEqual(expect.arrayContaining(["w.sock", "c.sock", "launch.json", "events.ndjson", "state.json"]));
    expect(listing).not.toContain("b1");
    expect(rest).toEqual(["ENOENT"]);

    // Claiming to be b1 from inside a1 still arrives on a1's own coordinator socket: the channel is the identity.
    await f.sh("a1", 'CSPACE_INSTANCE=b1 cspace send _coordinator "I am b1, honestly"');
    const message = await a?.waitForMessage((text) => text.includes("I am b1"));
    expect(message?.text).toBe("I am b1, honestly");
    expect(b?.messages).toEqual([]);
  });

  it("killing the agent ends in a crash report; killing the supervisor and docker kill end in lost, with the last event's time", async () => {
    const f = await workerFixture("wf-kill", cleanups);
    expect((await f.cli(["warm", "k1"])).status).toBe(0);
    const coordinator = await listenAsCoordinator(f.paths("k1").coordinatorSocket, "k1");
    cleanups.push(() => coordinator.close());
    await upWaiting(f, "k1");
    await upWaiting(f, "k2");
    await upWaiting(f, "k3");

    const agent = (await state(f, "k1")).agent;
    expect(agent).not.toBeNull();
    await f.sh("k1", `kill -KILL ${String(agent?.pid)}`);
    expect(await coordinator.waitForReport()).toMatchObject({ instance: "k1", outcome: "crash", signal: "SIGKILL", commitsAhead: 1 });

    await f.sh("k2", `kill -KILL ${String((await state(f, "k2")).pid)}`);
    const k3 = (await f.containers()).find((c) => c.name.endsWith("-k3"));
    await docker.getContainer(k3?.id ?? "").kill();

    const rows = await listed(f);
    const byName = new Map(rows.map((r) => [r.instance, r]));
    expect(byName.get("k1")?.agent).toMatchObject({ state: "exited", label: "exited SIGKILL" });
    expect(byName.get("k2")?.agent).toMatchObject({ state: "lost", lostBecause: "the supervisor does not answer (agent was idle)" });
    expect(byName.get("k3")).toMatchObject({ state: "exited", agent: { state: "lost", lostBecause: "the container is not running (agent was idle)" } });
    const lastEvent = (await waitForEvent(f.paths("k3"), waitingForMessage)).ts;
    expect(Date.parse(byName.get("k3")?.agent.lastActivity ?? "")).toBeGreaterThanOrEqual(Date.parse(lastEvent));
    const table = await f.cli(["list"]);
    expect(table.stdout).toMatch(/^k2 .* lost \(since \d+[smhd]\) /m);
    expect(table.stdout).toMatch(/^k3 +exited .* lost \(since \d+[smhd]\) /m);
    // A send to the lost workers says so and what to do.
    const send = await f.cli(["send", "k2", "hello?"]);
    expect(send.status).toBe(3);
    expect(send.stderr).toContain('no supervisor is running for instance "k2"');
  });

  it("down during up leaves nothing behind", async () => {
    const f = await workerFixture("wf-down", cleanups);
    // up in the background; down as soon as warm says the instance is ready (the supervisor is being started).
    const up = spawn(process.execPath, [binPath, "--cwd", f.repo.dir, "up", "d1", "--prompt", WAITING], { env: { ...cleanEnv(), ...f.repo.env }, stdio: ["ignore", "pipe", "pipe"] });
    let upErr = "";
    const ready = new Promise<void>((resolve) => {
      up.stderr.setEncoding("utf8").on("data", (chunk: string) => {
        upErr += chunk;
        if (/d1: (ready|validate)/.test(upErr)) resolve();
      });
    });
    const upExit = new Promise<number | null>((resolve) => up.on("close", resolve));
    await Promise.race([ready, upExit]);
    const down = await f.cli(["down", "d1"]);
    expect(down.status).toBe(0);
    await upExit;
    expect(await f.containers()).toEqual([]);
    expect(await readdir(f.repo.runDir).catch(() => [])).toEqual([]);
    expect((await listed(f))).toEqual([]);
    const data = (await readdir(f.repo.dataDir, { recursive: true }).catch(() => [])).filter((name) => !name.includes("objects.git"));
    expect(data.filter((name) => /(^|\/)d1([./]|$)/.test(name))).toEqual([]);
  });

  it("the forge token is in neither the container's environment nor the supervisor's nor the agent's", async () => {
    const f = await workerFixture("wf-token", cleanups);
    const token = "ghp_doNotLeakThis0123456789abcdef";
    await upWaiting(f, "t1", { GH_TOKEN: token, GITHUB_TOKEN: token });
    const container = (await f.containers()).find((c) => c.name.endsWith("-t1"));
    const env = (await docker.getContainer(container?.id ?? "").inspect()).Config.Env;
    expect(env.filter((e) => e.includes(token) || /^(GH|GITHUB)_TOKEN=/.test(e))).toEqual([]);
    const current = await state(f, "t1");
    const environs = await f.sh("t1", `tr '\\0' '\\n' < /proc/${String(current.pid)}/environ; echo ---; tr '\\0' '\\n' < /proc/${String(current.agent?.pid)}/environ`);
    expect(environs).toContain("CSPACE_INSTANCE=t1");
    expect(environs).not.toContain(token);
    expect(environs).not.toMatch(/^(GH|GITHUB)_TOKEN=/m);
  });
});
