// What durability costs the coordinator's event store: appends per second
// with synchronous=FULL (an fsync of the WAL at every commit, what cspace
// uses) against NORMAL (no fsync until a checkpoint), the two measured in
// turn, flipping which goes first each round, on a fresh file each time, in
// bench/.work (the repository's disk: /tmp is often tmpfs, where an fsync
// costs nothing). Single-event appends are the coordinator's common case; a
// batch of 20 shows what grouping saves. Run: `node bench/store/run.ts`.
import { mkdir, rm, rmdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openSqliteEventStore } from "../../src/adapters/store/sqlite-event-store.ts";
import { median } from "../support/processes.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const work = path.join(root, "bench", ".work", "store");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const APPENDS = Number(process.env.BENCH_APPENDS ?? 300);
type Mode = "FULL" | "NORMAL";

/** Appends per second over `APPENDS` appends of `batch` events each, on a new file. */
async function appendsPerSecond(mode: Mode, batch: number, file: string): Promise<number> {
  const store = await openSqliteEventStore(file, { synchronous: mode });
  try {
    const runId = await store.startRun({ bench: mode });
    const events = Array.from({ length: batch }, (_, index) => ({ type: "Reported", data: { issue: 10 + index, ok: true, turns: 12, cost: 0.42 } }));
    const started = performance.now();
    for (let i = 0; i < APPENDS; i++) await store.append(runId, events);
    return APPENDS / ((performance.now() - started) / 1000);
  } finally {
    await store.close();
    await rm(path.dirname(file), { recursive: true, force: true });
  }
}

async function compare(batch: number): Promise<void> {
  const rates: Record<Mode, number[]> = { FULL: [], NORMAL: [] };
  const ratios: number[] = [];
  let file = 0;
  const measure = (mode: Mode): Promise<number> => appendsPerSecond(mode, batch, path.join(work, String(file++), "coordinator.db"));
  await measure("FULL");
  await measure("NORMAL");
  for (let round = 0; round < ROUNDS; round++) {
    const order: Mode[] = round % 2 === 0 ? ["FULL", "NORMAL"] : ["NORMAL", "FULL"];
    const got: Partial<Record<Mode, number>> = {};
    for (const mode of order) got[mode] = await measure(mode);
    rates.FULL.push(got.FULL ?? NaN);
    rates.NORMAL.push(got.NORMAL ?? NaN);
    ratios.push((got.FULL ?? NaN) / (got.NORMAL ?? NaN));
  }
  const rate = (value: number): string => `${Math.round(value).toLocaleString("en-US")} appends/s`.padStart(16);
  console.log(
    `${`${String(batch)} event${batch === 1 ? "" : "s"} per append`.padEnd(22)} FULL ${rate(median(rates.FULL))}  NORMAL ${rate(median(rates.NORMAL))}  ` +
      `FULL/NORMAL ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`,
  );
}

async function main(): Promise<void> {
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  try {
    console.log(`${String(ROUNDS)} rounds of ${String(APPENDS)} appends per mode, in turn; medians (ratio: median of the rounds' ratios, and their range)\n`);
    await compare(1);
    await compare(20);
  } finally {
    await rm(work, { recursive: true, force: true });
    // bench/.work itself only when no other bench left anything in it.
    await rmdir(path.dirname(work)).catch(() => undefined);
  }
}

await main();
