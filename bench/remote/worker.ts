// A remote worker, end to end, over a real SSH engine: the parts of #16 put
// together the way `coordinate` will call them, against ONE remote engine of
// the test bed (test/support/remote-engines.ts) reached only through
// openSshRuntime (the bench touches nothing else of the engine: the test
// bed's stop() removes it whole).
//   1. a worker ready on a fresh host: prepareHost + pushRefs (this
//      repository's HEAD) + create (mountsFor) + start + checkout, against a
//      bare `docker run` of the same image over the same runtime
//      (create + start + exec `true`), measured just before and just after;
//   2. the same on a warm host (the mirror already holds HEAD), BENCH_WARM
//      workers, each alternated with a bare `docker run`;
//   3. `status` round trips to the real supervisor in the first worker
//      through the relay (host w.sock → one exec over SSH → its w.sock),
//      against a fresh exec per message (a node client in the container
//      dialling w.sock), alternated, BENCH_REQUESTS per side;
//   4. collecting a one-file commit made in the worker, against a plain
//      `git fetch` of the same kind of commit from a local repository,
//      alternated, BENCH_COLLECTS rounds.
// Needs root (the test bed), the cspace-base:bookworm image and a build
// (dist/worker/worker.cjs, for the supervisor and the relay).
//   node bench/remote/worker.ts
import { execFile } from "node:child_process";
import { mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { openSshRuntime } from "../../src/adapters/docker/ssh/runtime.ts";
import { createRemoteTransport } from "../../src/adapters/git/transport/remote-transport.ts";
import { newRequestId, request } from "../../src/adapters/messaging/client.ts";
import { openInstanceMirror, type InstanceMirror } from "../../src/adapters/fs/instance-mirror.ts";
import { openRelay, type RelayHandle } from "../../src/adapters/messaging/relay/open-relay.ts";
import { workerBundleFiles } from "../../src/adapters/worker-bundle.ts";
import { KEEP_ALIVE, WORKER_CAPABILITIES } from "../../src/core/devcontainer/create-options.ts";
import type { ContainerRuntime } from "../../src/core/instances/ports.ts";
import { BASE_IMAGE } from "../../test/support/docker.ts";
import { startRemoteEngine } from "../../test/support/remote-engines.ts";

const WARM = positive("BENCH_WARM", 3);
const REQUESTS = positive("BENCH_REQUESTS", 100);
const COLLECTS = positive("BENCH_COLLECTS", 5);
const USER = "1000:1000";
const WORKSPACE = "/workspaces/project";
const BRANCH = "bench-1";
const IDENTITY = { "user.name": "Agent", "user.email": "agent@cspace.invalid" };
const LABELS = { "dev.cspace.bench": "remote-worker" };
const run = promisify(execFile);

function positive(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

function ms(value: number): string {
  return `${value.toFixed(0)} ms`;
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await work();
  return { ms: performance.now() - start, value };
}

async function git(cwd: string, args: readonly string[]): Promise<string> {
  const env = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_AUTHOR_NAME: "Bench", GIT_AUTHOR_EMAIL: "b@cspace.invalid", GIT_COMMITTER_NAME: "Bench", GIT_COMMITTER_EMAIL: "b@cspace.invalid" };
  return (await run("git", args, { cwd, env, maxBuffer: 64 * 1024 * 1024 })).stdout;
}

async function sh(runtime: ContainerRuntime, id: string, script: string, options: { root?: boolean; env?: Record<string, string> } = {}): Promise<string> {
  const outcome = await runtime.exec(id, ["sh", "-c", script], { user: options.root === true ? "0:0" : USER, workdir: WORKSPACE, env: { HOME: "/tmp", ...options.env } });
  if (outcome.exitCode !== 0) throw new Error(`${script.slice(0, 200)} exited ${String(outcome.exitCode)}: ${outcome.stderr}`);
  return outcome.stdout;
}

/** A bare `docker run` of the base image over the same runtime: create, start, exec `true`, then removed (not timed). */
async function bareRun(runtime: ContainerRuntime, n: number): Promise<number> {
  let id = "";
  const { ms: took } = await timed(async () => {
    id = await runtime.create({ name: `cspace-bench-bare-${String(n)}`, Image: BASE_IMAGE, Env: [], Labels: LABELS, WorkingDir: "/", Entrypoint: [...KEEP_ALIVE.Entrypoint], Cmd: [...KEEP_ALIVE.Cmd], HostConfig: { Mounts: [] } });
    await runtime.start(id);
    const done = await runtime.exec(id, ["true"]);
    if (done.exitCode !== 0) throw new Error(`exec true in the bare container exited ${String(done.exitCode)}`);
  });
  await runtime.remove(id);
  return took;
}

/** One status request over a fresh exec: a node client in the container dials w.sock, sends one line, prints the reply. */
const EXEC_CLIENT =
  "const s = require('net').connect('/run/cspace/w.sock'); let b = ''; s.on('connect', () => s.write(process.argv[1] + '\\n')); s.on('data', (d) => { b += d; const i = b.indexOf('\\n'); if (i >= 0) { process.stdout.write(b.slice(0, i)); s.destroy(); } }); s.on('error', (e) => { console.error(e.message); process.exit(1); });";

async function main(): Promise<void> {
  const repository = process.cwd();
  const head = (await git(repository, ["rev-parse", "HEAD"])).trim();
  const scratch = await realpath(await mkdtemp(path.join(os.tmpdir(), "cspace-bench-worker-")));
  const store = path.join(scratch, "store.git");
  const startedBed = performance.now();
  const engine = await startRemoteEngine("bworker");
  const bedMs = performance.now() - startedBed;
  const ssh = await openSshRuntime({ name: "bench", endpoint: engine.endpoint, ssh: { identityFile: engine.identityFile, knownHosts: engine.knownHostsFile, socket: engine.socketPath } });
  const runtime = ssh.runtime;
  const projectId = `bench-${String(process.pid)}`;
  const transport = createRemoteTransport({ runtime, hostName: "bench", projectId, store, scratchDir: path.join(scratch, "cspace"), keeperImage: BASE_IMAGE, extraLabels: LABELS });
  const containers: string[] = [];
  const instances: string[] = [];
  let relay: RelayHandle | undefined;
  let mirror: InstanceMirror | undefined;
  try {
    await git(scratch, ["clone", "--quiet", "--bare", "--no-local", "--", repository, store]);

    const worker = async (instance: string): Promise<{ id: string; ms: number; phases: string }> => {
      instances.push(instance);
      let id = "";
      const phases: string[] = [];
      const phase = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
        const { ms: took, value } = await timed(work);
        phases.push(`${name} ${took.toFixed(0)}`);
        return value;
      };
      const { ms: took } = await timed(async () => {
        await phase("prepareHost", () => transport.prepareHost());
        await phase("pushRefs", () => transport.pushRefs([{ name: "main", sha: head }]));
        id = await phase("create", () => runtime.create({
          name: `${projectId}-${instance}`,
          Image: BASE_IMAGE,
          Env: [],
          Labels: { ...LABELS, "dev.cspace.host": "bench" },
          WorkingDir: "/",
          Entrypoint: [...KEEP_ALIVE.Entrypoint],
          Cmd: [...KEEP_ALIVE.Cmd],
          HostConfig: { Mounts: transport.mountsFor(instance, WORKSPACE), CapDrop: ["ALL"], CapAdd: [...WORKER_CAPABILITIES], SecurityOpt: ["no-new-privileges"], NetworkMode: "none", PidsLimit: 512 },
        }));
        containers.push(id);
        await phase("start", () => runtime.start(id));
        await phase("checkout", () => transport.checkout(id, { instance, branch: BRANCH, commit: head, path: WORKSPACE, user: USER, config: IDENTITY }));
      });
      return { id, ms: took, phases: phases.join(", ") };
    };

    // 1. Fresh host, with a bare run on each side of it.
    const bareBefore = await bareRun(runtime, 0);
    const first = await worker("w-1");
    const bareAfter = await bareRun(runtime, 1);
    const freshBase = (bareBefore + bareAfter) / 2;

    // 2. Warm host: the mirror holds HEAD; each worker alternated with a bare run.
    const warm: number[] = [];
    const warmPhases: string[] = [];
    const warmBare: number[] = [];
    for (let i = 0; i < WARM; i++) {
      if (i % 2 === 0) {
        const made = await worker(`w-${String(i + 2)}`);
        warm.push(made.ms);
        warmPhases.push(made.phases);
        warmBare.push(await bareRun(runtime, i + 2));
      } else {
        warmBare.push(await bareRun(runtime, i + 2));
        const made = await worker(`w-${String(i + 2)}`);
        warm.push(made.ms);
        warmPhases.push(made.phases);
      }
    }

    // 3. The real supervisor in the first worker, its instance directory inside the container; the relay over SSH.
    await runtime.copyIn(first.id, await workerBundleFiles());
    await sh(runtime, first.id, "mkdir -p /run/cspace && chown 1000:1000 /run/cspace && chmod 700 /run/cspace", { root: true });
    const launch = {
      v: 1, instance: "w-1", preset: "scripted", command: null, commandInput: "per-message", model: null,
      branch: BRANCH, base: "main", baseSha: head, workdir: WORKSPACE, promptFile: "/run/cspace/prompt.md",
      resumeSessionId: null, restartReason: null, resumedCostUsd: null, eventsMaxBytes: 1048576, stopGraceMs: 2000, reportRetryMaxMs: 1000,
    };
    await sh(runtime, first.id, `printf '%s' "$LAUNCH" > /run/cspace/launch.json && printf '%s' "$PROMPT" > /run/cspace/prompt.md`, { env: { LAUNCH: JSON.stringify(launch), PROMPT: "cspace-script: wait-message" } });
    await runtime.execDetached(first.id, ["node", "/opt/cspace/worker.cjs", "supervise", "/run/cspace"], { user: USER, env: { HOME: "/tmp" } });
    const hostDir = path.join(scratch, "run", "w-1");
    await run("mkdir", ["-p", "-m", "700", hostDir]);
    // The relay and the instance-directory mirror share the host's directory, as they will under coordinate.
    mirror = await openInstanceMirror({ runtime, containerId: first.id, user: USER, hostDir });
    relay = openRelay({ runtime, containerId: first.id, user: USER, hostDir });
    await relay.ready;
    const viaRelay = path.join(hostDir, "w.sock");
    const statusByRelay = async (): Promise<number> => {
      const { ms: took, value } = await timed(() => request(viaRelay, { v: 1, id: newRequestId(), cmd: "status" }, { timeoutMs: 30_000 }));
      if (!value.ok) throw new Error(`status through the relay failed: ${JSON.stringify(value)}`);
      return took;
    };
    const statusByExec = async (): Promise<number> => {
      const { ms: took, value } = await timed(() => runtime.exec(first.id, ["node", "-e", EXEC_CLIENT, JSON.stringify({ v: 1, id: newRequestId(), cmd: "status" })], { user: USER }));
      if (value.exitCode !== 0 || !value.stdout.includes('"ok":true')) throw new Error(`status by exec failed: ${value.stdout} ${value.stderr}`);
      return took;
    };
    // The supervisor serves w.sock a moment after it starts: ask until it answers.
    for (;;) {
      if (await statusByRelay().then(() => true, () => false)) break;
    }
    for (let i = 0; i < 5; i++) {
      await statusByRelay();
      await statusByExec();
    }
    const byRelay: number[] = [];
    const byExec: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      if (i % 2 === 0) {
        byRelay.push(await statusByRelay());
        byExec.push(await statusByExec());
      } else {
        byExec.push(await statusByExec());
        byRelay.push(await statusByRelay());
      }
    }
    const relayStats = relay.stats();
    const { ms: syncMs } = await timed(() => (mirror === undefined ? Promise.resolve() : mirror.synced()));
    const mirrored = await run("ls", [hostDir]).then((listed) => listed.stdout.split("\n").filter((name) => name !== "").join(" "));

    // 4. Collect a one-file commit from the worker, against `git fetch` of one from a local repository into a repository borrowing the store.
    const local = path.join(scratch, "local");
    await git(scratch, ["clone", "--quiet", "--shared", "--", store, local]);
    await git(local, ["checkout", "--quiet", "-B", BRANCH, head]);
    const fetchInto = path.join(scratch, "fetch.git");
    await git(scratch, ["init", "--quiet", "--bare", fetchInto]);
    await writeFile(path.join(fetchInto, "objects", "info", "alternates"), `${path.join(store, "objects")}\n`);
    const collects: number[] = [];
    const fetches: number[] = [];
    const collectOnce = async (round: number): Promise<void> => {
      const file = `bench-${String(round)}.txt`;
      await sh(runtime, first.id, `echo "round ${String(round)}" > ${file} && git add ${file} && git commit --quiet -m "bench ${String(round)}"`);
      collects.push((await timed(() => transport.collect(first.id, { instance: "w-1", path: WORKSPACE, branch: BRANCH, user: USER }))).ms);
    };
    const fetchOnce = async (round: number): Promise<void> => {
      await writeFile(path.join(local, `bench-${String(round)}.txt`), `round ${String(round)}\n`);
      await git(local, ["add", `bench-${String(round)}.txt`]);
      await git(local, ["commit", "--quiet", "-m", `bench ${String(round)}`]);
      fetches.push((await timed(() => git(fetchInto, ["-c", "transfer.fsckObjects=true", "fetch", "--quiet", "--no-tags", "--", local, `+refs/heads/${BRANCH}:refs/cspace/collected/${BRANCH}`]))).ms);
    };
    for (let round = 0; round < COLLECTS; round++) {
      if (round % 2 === 0) {
        await collectOnce(round);
        await fetchOnce(round);
      } else {
        await fetchOnce(round);
        await collectOnce(round);
      }
    }

    const ratio = (a: number, b: number): string => (a / b).toFixed(2);
    console.log(`remote worker over SSH (test bed: netns, dockerd, sshd, 200 Mbit/s; up in ${(bedMs / 1000).toFixed(1)} s)`);
    console.log(`1. worker ready, fresh host (prepareHost + pushRefs HEAD + create + start + checkout): ${ms(first.ms)}; bare docker run (create + start + exec true, mean of before/after ${ms(bareBefore)}/${ms(bareAfter)}): ${ms(freshBase)}; ratio ${ratio(first.ms, freshBase)}`);
    console.log(`   phases, ms: ${first.phases}`);
    console.log(`2. worker ready, warm host, ${String(WARM)} workers alternated with bare runs: mean ${ms(mean(warm))} (${warm.map(ms).join(", ")}); bare docker run mean ${ms(mean(warmBare))}; ratio ${ratio(mean(warm), mean(warmBare))}`);
    for (const phases of warmPhases) console.log(`   phases, ms: ${phases}`);
    console.log(`3. status to the real supervisor, ${String(REQUESTS)} per side, alternated: relay p50 ${ms(percentile(byRelay, 50))} p99 ${ms(percentile(byRelay, 99))}; fresh exec per message p50 ${ms(percentile(byExec, 50))} p99 ${ms(percentile(byExec, 99))}; ratio relay/exec p50 ${ratio(percentile(byRelay, 50), percentile(byExec, 50))}, p99 ${ratio(percentile(byRelay, 99), percentile(byExec, 99))}`);
    console.log(`   the instance mirror ran alongside, on the same host directory: synced() ${ms(syncMs)} after the round trips; host directory holds: ${mirrored}; lost: ${mirror.lost?.message ?? "no"}`);
    console.log(`   relay: execs ${String(relayStats.execs)}, sessions ${String(relayStats.sessions)}, losses ${String(relayStats.losses)}`);
    console.log(`4. collect of a one-file commit, ${String(COLLECTS)} rounds alternated: mean ${ms(mean(collects))} (${collects.map(ms).join(", ")}); local git fetch mean ${ms(mean(fetches))}; ratio ${ratio(mean(collects), mean(fetches))}`);
    console.log(`ssh connections opened: ${String(ssh.connectionsOpened())}; sshd accepted ${String(await engine.sshConnectionsAccepted())}`);
    console.log(`machine: ${String(os.cpus().length)} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  } finally {
    await relay?.close().catch(() => undefined);
    await mirror?.close().catch(() => undefined);
    for (const id of containers) await runtime.remove(id).catch(() => false);
    await transport.close().catch(() => undefined);
    for (const instance of instances) await transport.removeInstance(instance).catch(() => undefined);
    await ssh.close().catch(() => undefined);
    await engine.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
