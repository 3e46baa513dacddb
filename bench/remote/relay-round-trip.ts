// The message relay's cost: round trips of `status` to one real supervisor in
// a worker container, through the relay (host w.sock → exec → the container's
// w.sock) against the direct socket (the same supervisor's w.sock, its
// instance directory bind-mounted from the host as for a local worker).
// A new connection per request, as `cspace status` makes; the two sides
// alternate request by request, the first of each pair flipped every round,
// so a machine whose speed drifts moves both alike. Needs the local engine,
// the cspace-base:bookworm image and a build (dist/worker/worker.cjs).
//   node bench/remote/relay-round-trip.ts          (BENCH_REQUESTS=500 per side)
import { chown, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { newRequestId, request } from "../../src/adapters/messaging/client.ts";
import { openRelay } from "../../src/adapters/messaging/relay/open-relay.ts";
import { removeLabelled, testDocker } from "../../test/support/docker.ts";
import { CONTAINER_USER, relayWorker } from "../../test/support/relay-worker.ts";

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 500);
if (!Number.isInteger(REQUESTS) || REQUESTS <= 0) throw new Error("BENCH_REQUESTS must be a positive integer");
const runId = `bench-relay-${String(process.pid)}`;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function status(socketPath: string): Promise<number> {
  const started = performance.now();
  const reply = await request(socketPath, { v: 1, id: newRequestId(), cmd: "status" }, { timeoutMs: 30_000 });
  const ms = performance.now() - started;
  if (!reply.ok) throw new Error(`status through ${socketPath} failed: ${JSON.stringify(reply)}`);
  return ms;
}

async function main(): Promise<void> {
  const direct = await mkdtemp(path.join(os.tmpdir(), "cspace-bench-direct-"));
  // The supervisor (uid 1000) owns its instance directory; the host dials as root.
  await chown(direct, 1000, 1000);
  const worker = await relayWorker(runId, "relay-bench", { mountInstanceDir: direct });
  const relay = openRelay({ runtime: worker.runtime, containerId: worker.id, user: CONTAINER_USER, hostDir: worker.hostDir });
  try {
    await relay.ready;
    await worker.startSupervisor("cspace-script: wait-message");
    const viaDirect = path.join(direct, "w.sock");
    const viaRelay = path.join(worker.hostDir, "w.sock");
    for (;;) {
      if (await status(viaDirect).then(() => true, () => false)) break;
    }
    for (let warm = 0; warm < 20; warm++) {
      await status(viaDirect);
      await status(viaRelay);
    }
    const times = { direct: [] as number[], relay: [] as number[] };
    for (let round = 0; round < REQUESTS; round++) {
      if (round % 2 === 0) {
        times.direct.push(await status(viaDirect));
        times.relay.push(await status(viaRelay));
      } else {
        times.relay.push(await status(viaRelay));
        times.direct.push(await status(viaDirect));
      }
    }
    const figure = (values: readonly number[]): string => `p50 ${percentile(values, 50).toFixed(2)} ms, p99 ${percentile(values, 99).toFixed(2)} ms`;
    console.log(`status round trips, a new connection each, ${String(REQUESTS)} per side, alternated:`);
    console.log(`  direct socket: ${figure(times.direct)}`);
    console.log(`  through relay: ${figure(times.relay)}`);
    console.log(`  ratio relay/direct: p50 ${(percentile(times.relay, 50) / percentile(times.direct, 50)).toFixed(2)}, p99 ${(percentile(times.relay, 99) / percentile(times.direct, 99)).toFixed(2)}`);
    console.log(`  relay: ${JSON.stringify(relay.stats())}`);
  } finally {
    await relay.close();
    await worker.remove();
    await removeLabelled(testDocker(), runId);
    await rm(direct, { recursive: true, force: true });
  }
}

await main();
