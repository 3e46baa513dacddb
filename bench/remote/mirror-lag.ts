// The instance-directory mirror's lag: the time from a line appended to
// /run/cspace/events.ndjson in a real container (no bind mount) to that line
// in the host's copy, p50 and p99, one line at a time. The container stamps
// each line with its own clock as it appends it; on the local engine the
// container's clock is the host's (one kernel), so the difference is the lag.
// On a remote engine the clocks differ: run it against the local one.
//   node bench/remote/mirror-lag.ts   (after `npm run build`; BENCH_LINES, default 300)
import { watch } from "node:fs";
import { mkdir, mkdtemp, open, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DockerRuntime } from "../../src/adapters/docker/containers.ts";
import { connectDocker, dockerEndpoint } from "../../src/adapters/docker/engine.ts";
import { openInstanceMirror } from "../../src/adapters/fs/instance-mirror.ts";
import { workerBundleFiles } from "../../src/adapters/worker-bundle.ts";

const LINES = Number(process.env.BENCH_LINES ?? 300);
const BASE_IMAGE = "cspace-base:bookworm";
const USER = "1000:1000";
/** In the container: on each line of input, append one event stamped with the time of the append. */
const APPENDER = "const fs = require('fs'); let n = 0; require('readline').createInterface({ input: process.stdin }).on('line', () => { n += 1; fs.appendFileSync('/run/cspace/events.ndjson', JSON.stringify({ ts: new Date().toISOString(), source: 'agent', type: 'text', text: String(n), at: Date.now() }) + '\\n'); });";

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const runtime = new DockerRuntime(process.env);
// A bare container (no devcontainer to read): created through dockerode, driven through the runtime like a worker.
const created = await connectDocker(dockerEndpoint(process.env)).createContainer({ Image: BASE_IMAGE, Cmd: ["sleep", "infinity"], Labels: { "dev.cspace.bench": "mirror-lag" } });
const id = created.id;
const runDir = await mkdtemp(path.join(os.tmpdir(), "cspace-bench-mirror-"));
try {
  await runtime.start(id);
  await runtime.copyIn(id, await workerBundleFiles());
  await runtime.exec(id, ["sh", "-c", "mkdir -p /run/cspace && chown 1000:1000 /run/cspace"], { user: "0" });
  const hostDir = path.join(runDir, "issue-1");
  await mkdir(hostDir);
  const mirror = await openInstanceMirror({ runtime, containerId: id, user: USER, hostDir });
  const appender = await runtime.execStream(id, ["node", "-e", APPENDER], { user: USER });

  const lags: number[] = [];
  let offset = 0;
  let pending = "";
  let wake: (() => void) | null = null;
  const watcher = watch(hostDir, () => { wake?.(); });
  const readNew = async (): Promise<void> => {
    const handle = await open(path.join(hostDir, "events.ndjson")).catch(() => null);
    if (handle === null) return;
    try {
      const { size } = await handle.stat();
      if (size <= offset) return;
      const buffer = Buffer.alloc(size - offset);
      await handle.read(buffer, 0, buffer.length, offset);
      offset = size;
      pending += buffer.toString("utf8");
      const now = Date.now();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) lags.push(now - (JSON.parse(line) as { at: number }).at);
    } finally {
      await handle.close();
    }
  };
  for (let i = 0; i < LINES; i += 1) {
    const want = i + 1;
    appender.stdin.write("go\n");
    while (lags.length < want) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        // Also look now and then: a watch event can come before the write it announces is complete.
        setTimeout(resolve, 50);
      });
      wake = null;
      await readNew();
    }
  }
  watcher.close();
  appender.stdin.end();
  await mirror.close();
  const sorted = [...lags].sort((a, b) => a - b);
  console.log(`mirror lag, ${String(sorted.length)} lines, one at a time (container append → host copy): p50 ${String(percentile(sorted, 50))} ms, p99 ${String(percentile(sorted, 99))} ms, max ${String(sorted.at(-1))} ms`);
  console.log(`machine: ${String(os.cpus().length)} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
} finally {
  await runtime.remove(id).catch(() => false);
  await rm(runDir, { recursive: true, force: true });
}
