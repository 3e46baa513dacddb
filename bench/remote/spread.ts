// A whole run spread over three engines: `cspace demo --issues N` (50 by
// default) with its workers placed over the local engine and two remote
// engines of the test bed (test/support/remote-engines.ts, each behind its own
// sshd in a network namespace, 200 Mbit/s), against the same demo with every
// worker on the local engine. Both sides are the built binary, the whole
// process a user waits for (make the project, warm, run, merge, remove
// everything); they alternate, BENCH_ROUNDS rounds (1), so a machine whose
// speed drifts moves both alike. On one machine the remote engines share its
// cores: this measures what spreading costs (SSH, the mirror, the relay, the
// collect), not the speed-up more machines would bring.
//   node bench/remote/spread.ts        (root, a build, cspace-base:bookworm)
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { binPath, cleanEnv, repoRoot } from "../../test/support/cli.ts";
import { startRemoteEngine, type RemoteEngine } from "../../test/support/remote-engines.ts";

const ISSUES = positive("BENCH_ISSUES", 50);
const ROUNDS = positive("BENCH_ROUNDS", 1);
const SLOTS = positive("BENCH_SLOTS", 4);

function positive(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

interface DemoRun {
  readonly ms: number;
  readonly merged: number;
  readonly status: number | null;
}

async function demo(scratch: string, workersFile: string | null): Promise<DemoRun> {
  const args = [binPath, "demo", "--issues", String(ISSUES), "--json", ...(workersFile === null ? [] : ["--workers", workersFile])];
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...cleanEnv(), TMPDIR: scratch, CSPACE_DATA_DIR: path.join(scratch, "data"), CSPACE_RUN_DIR: path.join(scratch, "run") },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let stdout = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  const status = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  const ms = performance.now() - started;
  const report = stdout
    .split("\n")
    .filter((line) => line.includes('"kind":"report"'))
    .map((line) => JSON.parse(line) as { merged: readonly string[] })[0];
  return { ms, merged: Math.max(0, (report?.merged.length ?? 1) - 1), status };
}

async function main(): Promise<void> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), "cspace-bench-spread-"));
  const engines: RemoteEngine[] = [];
  try {
    engines.push(...(await Promise.all([startRemoteEngine("bspreada"), startRemoteEngine("bspreadb")])));
    const hosts = [
      { name: "local", slots: SLOTS },
      ...engines.map((engine, index) => ({
        name: `r${String(index + 1)}`,
        docker: engine.endpoint,
        slots: SLOTS,
        ssh: { identityFile: engine.identityFile, knownHosts: engine.knownHostsFile, socket: engine.socketPath },
      })),
    ];
    const workersFile = path.join(scratch, "hosts.json");
    await writeFile(workersFile, `${JSON.stringify({ placement: "spread", hosts })}\n`);
    const spread: DemoRun[] = [];
    const local: DemoRun[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) {
        spread.push(await demo(scratch, workersFile));
        local.push(await demo(scratch, null));
      } else {
        local.push(await demo(scratch, null));
        spread.push(await demo(scratch, workersFile));
      }
    }
    const line = (name: string, runs: readonly DemoRun[]): string =>
      `${name}: ${runs.map((r) => `${(r.ms / 1000).toFixed(1)} s (${String(r.merged)}/${String(ISSUES)} merged, exit ${String(r.status)})`).join(", ")}`;
    const mean = (runs: readonly DemoRun[]): number => runs.reduce((sum, r) => sum + r.ms, 0) / runs.length;
    console.log(`cspace demo --issues ${String(ISSUES)}, ${String(ROUNDS)} round(s), coordinator.maxParallel 4 (the demo's), ${String(SLOTS)} slots per host`);
    console.log(line("spread over local + 2 SSH engines (spread placement)", spread));
    console.log(line("all on the local engine", local));
    console.log(`ratio spread / local (mean wall time): ${(mean(spread) / mean(local)).toFixed(2)}`);
  } finally {
    await Promise.all(engines.map((engine) => engine.stop()));
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
