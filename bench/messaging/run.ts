// Measures messaging against one real supervisor (dist/worker/worker.cjs
// supervise, on the host, the `command` preset running an agent that never
// takes a message, so every `send` is queued and answered at once):
//   1. socket round trips, p50 and p99, of `status` and `send`, on a held
//      connection and with a new connection per request (what the CLI does);
//   2. `send` messages per second: one client one at a time, several client
//      processes at once, one client pipelining;
//   3. the whole `cspace send` process against `node -e ''`, the two in turn,
//      as a ratio (and bare Node doing the same one request, the floor).
// Run: `npm run bench:messaging` (builds dist/ first).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, statfsSync } from "node:fs";
import { mkdir, rm, rmdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { INSTANCE_FILES } from "../../src/core/messaging/layout.ts";
import type { Launch } from "../../src/core/messaging/launch.ts";
import type { Reply } from "../../src/core/messaging/protocol.ts";
import { newRequestId, request } from "../../src/adapters/messaging/client.ts";
import { comparePair, median, type PairFigures, type Run } from "../support/processes.ts";
import { Connection, type Ask } from "./connection.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const here = path.join(root, "bench", "messaging");
const work = path.join(root, "bench", ".work", "messaging");
// Where cspace would put the run directory (XDG_RUNTIME_DIR, else the
// temporary directory) unless BENCH_RUN_DIR says: the supervisor rewrites
// state.json on every `send`, so the filesystem under it is in the figures.
const runBase = nonEmpty(process.env.BENCH_RUN_DIR) ?? nonEmpty(process.env.XDG_RUNTIME_DIR) ?? os.tmpdir();
const runDir = path.join(runBase, `cspace-bench-${String(process.pid)}`);
const INSTANCE = "bench";
const instanceDir = path.join(runDir, INSTANCE);
const socketPath = path.join(instanceDir, INSTANCE_FILES.workerSocket);
const project = path.join(work, "project");
const workspace = path.join(work, "workspace");
const workerBundle = path.join(root, "dist", "worker", "worker.cjs");
const cspaceBin = path.join(root, "bin", "cspace");

const positive = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
};
/** Timed requests of each round-trip kind. */
const REQUESTS = positive("BENCH_REQUESTS", 2000);
/** Messages per throughput run (shared among its clients), and runs of each. */
const MESSAGES = positive("BENCH_MESSAGES", 4000);
const REPEATS = positive("BENCH_REPEATS", 3);
/** Pairs of whole processes for the ratios. */
const ROUNDS = positive("BENCH_ROUNDS", 20);
const TARGET = { p99Ms: 5, ratio: 1.5 };
const env: NodeJS.ProcessEnv = { ...process.env, CSPACE_DATA_DIR: path.join(work, "data"), CSPACE_RUN_DIR: runDir, NO_COLOR: "1" };

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/** statfs's f_type for the filesystems a run directory is likely on. */
const FILESYSTEMS: Readonly<Record<number, string>> = {
  0x01021994: "tmpfs",
  0xef53: "ext4",
  0x58465342: "xfs",
  0x9123683e: "btrfs",
  0x794c7630: "overlayfs",
  0x6a656a63: "virtiofs (fakeowner)",
  0x65735546: "fuse",
  0x6969: "nfs",
};

function filesystemOf(dir: string): string {
  try {
    const type = statfsSync(dir).type;
    return FILESYSTEMS[type] ?? `f_type 0x${type.toString(16)}`;
  } catch {
    return "filesystem unknown";
  }
}

const verdict = (ok: boolean): string => (ok ? "met" : "MISSED");
const load = (): string => os.loadavg().map((value) => value.toFixed(2)).join(", ");

// --- the supervisor -------------------------------------------------------

async function prepare(): Promise<void> {
  await rm(work, { recursive: true, force: true });
  await rm(runDir, { recursive: true, force: true });
  // The supervisor refuses to listen in a folder others can reach.
  await mkdir(instanceDir, { recursive: true, mode: 0o700 });
  await mkdir(workspace, { recursive: true });
  await mkdir(project, { recursive: true });
  await writeFile(path.join(project, ".cspace.json"), `${JSON.stringify({ project: { name: "bench-messaging" } })}\n`);
  const git = (...args: string[]): void => {
    const child = spawnSync("git", ["-C", project, ...args], { stdio: "ignore" });
    if (child.status !== 0) throw new Error(`git ${args.join(" ")} failed in ${project}`);
  };
  git("init", "--quiet", "--initial-branch=main");
  git("add", "-A");
  git("-c", "user.name=bench", "-c", "user.email=bench@cspace.invalid", "commit", "--quiet", "-m", "init");

  const launch: Launch = {
    v: 1,
    instance: INSTANCE,
    preset: "command",
    commandInput: "per-message",
    // Busy until its supervisor is gone (checked every 5 s), so every message
    // stays queued: nothing else runs while `send` is measured.
    command: "while kill -0 $PPID 2>/dev/null; do sleep 5; done",
    model: null,
    branch: INSTANCE,
    base: "main",
    baseSha: null,
    workdir: workspace,
    promptFile: path.join(instanceDir, INSTANCE_FILES.prompt),
    resumeSessionId: null,
    restartReason: null,
    resumedCostUsd: null,
    eventsMaxBytes: 10 * 1024 * 1024,
    stopGraceMs: 2000,
    reportRetryMaxMs: 30_000,
  };
  await writeFile(path.join(instanceDir, INSTANCE_FILES.prompt), "Wait.\n");
  await writeFile(path.join(instanceDir, INSTANCE_FILES.launch), `${JSON.stringify(launch, null, 2)}\n`);
}

function supervisorLog(): string {
  try {
    return readFileSync(path.join(instanceDir, INSTANCE_FILES.supervisorLog), "utf8");
  } catch {
    return "";
  }
}

async function ask(fields: Ask, timeoutMs = 5000): Promise<Reply> {
  return request(socketPath, { ...fields, v: 1, id: newRequestId() }, { timeoutMs });
}

async function queueDepth(): Promise<number> {
  const reply = await ask({ cmd: "status" });
  if (!reply.ok) throw new Error(`status failed: ${reply.error.message}`);
  return (reply.status as { queueDepth: number }).queueDepth;
}

async function startSupervisor(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [workerBundle, "supervise", instanceDir], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr += chunk;
  });
  const deadline = performance.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the supervisor exited ${String(child.exitCode)}:\n${stderr}${supervisorLog()}`);
    const reply = await ask({ cmd: "status" }, 1000).catch(() => null);
    if (reply?.ok === true && (reply.status as { state: string }).state === "working") return child;
    if (performance.now() > deadline) throw new Error(`the supervisor did not answer on ${socketPath} within 15 s:\n${stderr}${supervisorLog()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stopSupervisor(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => { resolve(); }));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

// --- 1. round trips -------------------------------------------------------

/** The value below which `fraction` of the samples lie (nearest rank). */
function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)] ?? Number.NaN;
}

interface Kind {
  readonly label: string;
  readonly once: () => Promise<unknown>;
}

async function roundTrips(): Promise<void> {
  const held = await Connection.open(socketPath);
  let sent = 0;
  const message = (): Ask => ({ cmd: "send", text: `bench round trip ${String(sent++)}`, from: "bench" });
  const fresh = async (fields: Ask): Promise<void> => {
    const reply = await ask(fields);
    if (!reply.ok) throw new Error(`${fields.cmd} failed: ${reply.error.message}`);
  };
  const kinds: readonly Kind[] = [
    { label: "status, held connection", once: () => held.request({ cmd: "status" }) },
    { label: "send, held connection", once: () => held.request(message()) },
    { label: "status, new connection", once: () => fresh({ cmd: "status" }) },
    { label: "send, new connection", once: () => fresh(message()) },
  ];
  const samples = kinds.map((): number[] => []);
  const warmUp = Math.min(200, REQUESTS);
  for (let i = 0; i < warmUp + REQUESTS; i++) {
    // Each kind in turn, the order rotated every round, so drift moves them alike.
    for (let k = 0; k < kinds.length; k++) {
      const index = (i + k) % kinds.length;
      const kind = kinds[index];
      if (kind === undefined) continue;
      const started = performance.now();
      await kind.once();
      const ms = performance.now() - started;
      if (i >= warmUp) samples[index]?.push(ms);
    }
  }
  held.close();
  console.log(`socket round trips, ${String(REQUESTS)} of each after ${String(warmUp)}, one client, the kinds in turn (load ${load()})`);
  kinds.forEach((kind, index) => {
    const sorted = [...(samples[index] ?? [])].sort((x, y) => x - y);
    const p50 = percentile(sorted, 0.5);
    const p99 = percentile(sorted, 0.99);
    const max = sorted[sorted.length - 1] ?? Number.NaN;
    console.log(
      `  ${kind.label.padEnd(26)} p50 ${p50.toFixed(3).padStart(6)} ms  p99 ${p99.toFixed(3).padStart(6)} ms  max ${max.toFixed(1).padStart(5)} ms  ` +
        `target p99 < ${String(TARGET.p99Ms)} ms: ${verdict(p99 < TARGET.p99Ms)}`,
    );
  });
}

// --- 2. messages per second -----------------------------------------------

interface Scenario {
  readonly label: string;
  readonly clients: number;
  /** Requests each client keeps unanswered at most. */
  readonly window: number;
}

interface LoadResult {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly count: number;
}

/** Starts `clients` processes (bench/messaging/load.ts), lets them go at once, and returns the messages per second of them all. */
async function loadRun(scenario: Scenario, tag: string): Promise<number> {
  const each = Math.ceil(MESSAGES / scenario.clients);
  const children = Array.from({ length: scenario.clients }, (_, index) => {
    const child = spawn(process.execPath, [path.join(here, "load.ts"), socketPath, String(each), String(scenario.window), `${tag}.${String(index)}`], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      stderr += chunk;
    });
    const lines = createInterface({ input: child.stdout });
    const next = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const onExit = (code: number | null): void => {
          reject(new Error(`a load client exited ${String(code)} early:\n${stderr}`));
        };
        child.once("exit", onExit);
        lines.once("line", (line) => {
          child.off("exit", onExit);
          resolve(line);
        });
      });
    return { child, next, exited: new Promise<number | null>((resolve) => child.once("exit", resolve)) };
  });
  const ready = await Promise.all(children.map(({ next }) => next()));
  if (ready.some((line) => line !== "ready")) throw new Error(`a load client said ${JSON.stringify(ready)}`);
  const results = children.map(({ next }) => next());
  for (const { child } of children) child.stdin.write("go\n");
  const figures = (await Promise.all(results)).map((line) => JSON.parse(line) as LoadResult);
  const codes = await Promise.all(children.map(({ exited }) => exited));
  if (codes.some((code) => code !== 0)) throw new Error(`load clients exited ${codes.join(", ")}`);
  const total = figures.reduce((sum, figure) => sum + figure.count, 0);
  const span = Math.max(...figures.map((figure) => figure.endedAt)) - Math.min(...figures.map((figure) => figure.startedAt));
  return (total / span) * 1000;
}

async function throughput(): Promise<void> {
  const scenarios: readonly Scenario[] = [
    { label: "1 client, one at a time", clients: 1, window: 1 },
    { label: "4 clients, one at a time", clients: 4, window: 1 },
    { label: "16 clients, one at a time", clients: 16, window: 1 },
    { label: "1 client, 32 in flight", clients: 1, window: 32 },
  ];
  const rates = scenarios.map((): number[] => []);
  const before = await queueDepth();
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    for (let k = 0; k < scenarios.length; k++) {
      const index = (repeat + k) % scenarios.length;
      const scenario = scenarios[index];
      if (scenario === undefined) continue;
      rates[index]?.push(await loadRun(scenario, `r${String(repeat)}s${String(index)}`));
    }
  }
  const queued = (await queueDepth()) - before;
  const expected = scenarios.reduce((sum, scenario) => sum + scenario.clients * (Math.ceil(MESSAGES / scenario.clients) + 50), 0) * REPEATS;
  if (queued !== expected) throw new Error(`the supervisor queued ${String(queued)} messages of the ${String(expected)} sent`);
  const rate = (value: number): string => `${Math.round(value).toLocaleString("en-US")}/s`;
  console.log(`\n\`send\` messages per second, ${String(MESSAGES)} messages a run (shared among its clients, each its own process), median of ${String(REPEATS)} runs (load ${load()})`);
  scenarios.forEach((scenario, index) => {
    const values = rates[index] ?? [];
    console.log(`  ${scenario.label.padEnd(26)} ${rate(median(values)).padStart(9)}  (${rate(Math.min(...values))}–${rate(Math.max(...values))})`);
  });
  console.log(`  all ${expected.toLocaleString("en-US")} queued, none lost`);
}

// --- 3. the whole `cspace send` -------------------------------------------

function printPair(label: string, baseline: string, figures: PairFigures, target: boolean): void {
  const ms = (value: number): string => `${value.toFixed(0)} ms`;
  console.log(
    `  ${label.padEnd(26)} ${ms(figures.a).padStart(6)} vs ${baseline.padEnd(11)} ${ms(figures.b).padStart(6)}  ` +
      `ratio ${figures.ratio.toFixed(2)} (${figures.ratioMin.toFixed(2)}–${figures.ratioMax.toFixed(2)})` +
      (target ? `  target ≤ ${TARGET.ratio.toFixed(1)}: ${verdict(figures.ratio <= TARGET.ratio)}` : ""),
  );
}

/** Why `cspace send` cannot be measured yet, or null when it can. */
function sendPending(send: Run): string | null {
  if (!existsSync(path.join(root, "src", "cli", "commands", "send.ts"))) return "src/cli/commands/send.ts is not written yet";
  const child = spawnSync(send.command, [...send.args], { ...send.options, encoding: "utf8" });
  if (child.status !== 0) {
    const said = `${child.stderr}${child.stdout}`.trim().split("\n").slice(0, 3).join(" / ");
    return `it exited ${String(child.status ?? child.signal)} (is dist/ built from it? npm run build): ${said}`;
  }
  return null;
}

async function wholeProcesses(): Promise<void> {
  const node = (...args: string[]): Run => ({ command: process.execPath, args, options: { env } });
  const bare = node("-e", "");
  console.log(`\nwhole processes, ${String(ROUNDS)} pairs each, the two sides in turn; medians (ratio: median of the pairs' ratios, and their range) (load ${load()})`);
  const send: Run = node(cspaceBin, "--cwd", project, "send", INSTANCE, "A message from the messaging bench.");
  const pending = sendPending(send);
  if (pending === null) {
    const before = await queueDepth();
    printPair("cspace send", "node -e ''", comparePair(send, bare, ROUNDS), true);
    const queued = (await queueDepth()) - before;
    if (queued !== ROUNDS + 1) throw new Error(`cspace send exited 0 ${String(ROUNDS + 1)} times but the supervisor queued ${String(queued)} messages`);
  } else {
    console.log(`  cspace send: pending, not measured (${pending})`);
  }
  printPair("bare Node, one send", "node -e ''", comparePair(node(path.join(here, "send-once.mjs"), socketPath, "A message from bare Node."), bare, ROUNDS), false);
}

async function main(): Promise<void> {
  if (!existsSync(workerBundle)) throw new Error(`${workerBundle} is missing: run \`npm run build\` first`);
  console.log(`${String(os.availableParallelism())} cores, load average ${load()} (1, 5, 15 min); one supervisor, \`command\` preset, every message queued`);
  await prepare();
  console.log(`run directory ${runDir} (${filesystemOf(runDir)})\n`);
  let supervisor: ChildProcess | null = null;
  try {
    supervisor = await startSupervisor();
    await roundTrips();
    await throughput();
    await wholeProcesses();
    console.log(`\nload average at the end ${load()}`);
  } finally {
    if (supervisor !== null) await stopSupervisor(supervisor);
    await rm(work, { recursive: true, force: true });
    await rm(runDir, { recursive: true, force: true });
    // bench/.work itself only when no other bench left anything in it.
    await rmdir(path.dirname(work)).catch(() => undefined);
  }
}

await main();
