import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteEventStore } from "../../../src/adapters/store/sqlite-event-store.ts";
import type { StoredEvent } from "../../../src/core/coordinator-store/port.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";
import { startChild, type StoreChild } from "./processes.ts";

// The store's promises across processes: what append acknowledged survives a
// kill -9 of the writer, and a reader in another process never sees part of a
// batch. Each waits on the child's lines, never on time.

const tempDir = useTempDirs("event-store");
const children: StoreChild[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.kill9()));
});
const child = (args: readonly string[]): StoreChild => {
  const started = startChild(args);
  children.push(started);
  return started;
};

describe("the SQLite event store across processes", () => {
  it("keeps every event whose append returned when the writer is killed with SIGKILL right after", async () => {
    const file = path.join(await tempDir(), "coordinator.db");
    const writer = child(["append", file]);
    const [, runId = "", seqs = ""] = (await writer.line("appended ")).split(" ");
    await writer.kill9();

    const store = await openSqliteEventStore(file);
    try {
      const events = await store.read(runId);
      expect(events.map((event) => event.seq)).toEqual(JSON.parse(seqs));
      expect(events.map((event) => [event.type, event.data])).toEqual([
        ["Launched", { issue: 10 }],
        ["Reported", { issue: 10, ok: true }],
        ["Merged", { issue: 10, sha: "abc123" }],
      ]);
      expect((await store.latestRun())?.meta).toEqual({ child: writer.pid });
    } finally {
      await store.close();
    }
  });

  it("has all of a batch or none of it after a SIGKILL halfway through writing the batch", async () => {
    const file = path.join(await tempDir(), "coordinator.db");
    const size = 100_000;
    const writer = child(["big-batch", file, String(size)]);
    const runId = (await writer.line("halfway ")).split(" ")[1] ?? "";
    await writer.kill9();

    const store = await openSqliteEventStore(file);
    try {
      // None, unless the writer finished the whole batch before the signal landed.
      expect([0, size]).toContain((await store.read(runId)).length);
      // And the file is sound: the next writer carries on.
      expect(await store.append(runId, [{ type: "After", data: null }])).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it("never shows a reader in another process part of a batch while a writer appends in a loop", async () => {
    const file = path.join(await tempDir(), "coordinator.db");
    const size = 25;
    const writer = child(["write-loop", file, String(size)]);
    const runId = (await writer.line("writing ")).split(" ")[1] ?? "";

    const store = await openSqliteEventStore(file);
    try {
      let last = 0;
      let reads = 0;
      const batches = new Set<number>();
      // Reads race the writer: each one must end on a batch boundary.
      while (batches.size < 200 || reads < 50) {
        const events = await store.readSince(last, { runId });
        if (events.length === 0) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          continue;
        }
        reads++;
        expect(tornBatches(events, size)).toEqual([]);
        for (const event of events) batches.add(batchOf(event).batch);
        last = events.at(-1)?.seq ?? last;
      }
      expect([...batches].sort((a, b) => a - b)).toEqual([...batches.keys()].map((_, index) => index));
    } finally {
      await store.close();
    }
  });
});

function batchOf(event: StoredEvent): { batch: number; index: number } {
  return event.data as { batch: number; index: number };
}

/** Batches a read shows incompletely, or out of order. */
function tornBatches(events: readonly StoredEvent[], size: number): string[] {
  const torn: string[] = [];
  for (let start = 0; start < events.length; start += size) {
    const part = events.slice(start, start + size).map(batchOf);
    const batch = part[0]?.batch;
    if (part.length !== size || part.some((entry, index) => entry.batch !== batch || entry.index !== index)) {
      torn.push(`batch ${String(batch)} seen as ${JSON.stringify(part.map((entry) => `${String(entry.batch)}.${String(entry.index)}`))}`);
    }
  }
  return torn;
}
