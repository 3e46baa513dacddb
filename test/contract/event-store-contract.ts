import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EventStore, Json, NewEvent } from "../../src/core/coordinator-store/port.ts";
import { InternalError } from "../../src/core/errors.ts";

/**
 * The behaviour every EventStore must show, run against the SQLite store
 * (event-store-sqlite.test.ts) and the in-memory fake (event-store-fake.test.ts).
 * A world starts with an empty store; `another()` opens a second store on the
 * same place, as a second process would (SQLite: a second connection to the
 * file; the fake: a second store on the same log).
 */
export interface EventStoreWorld {
  readonly store: EventStore;
  another(): Promise<EventStore>;
  teardown(): Promise<void>;
}

const events = (...types: string[]): NewEvent[] => types.map((type, index) => ({ type, data: { index } }));

export function eventStoreContract(name: string, makeWorld: () => Promise<EventStoreWorld>): void {
  describe(`EventStore contract: ${name}`, () => {
    let world: EventStoreWorld;
    let store: EventStore;
    beforeEach(async () => {
      world = await makeWorld();
      store = world.store;
    });
    afterEach(async () => {
      await world.teardown();
    });

    it("starts empty: no runs, no events", async () => {
      expect(await store.runs()).toEqual([]);
      expect(await store.latestRun()).toBeUndefined();
      expect(await store.readSince(0)).toEqual([]);
      expect(await store.read("no-such-run")).toEqual([]);
    });

    it("appends a batch and reads it back in order, with the seqs append returned", async () => {
      const runId = await store.startRun({ issues: [10, 11] });
      const at = new Date("2026-01-02T03:04:05.678Z");
      const seqs = await store.append(runId, [
        { type: "IssuesLoaded", data: { issues: [10, 11], note: "ünïcode ✓", nested: { deep: [null, true, 1.5] } }, at },
        { type: "Warmed", data: "issue-10", at },
        { type: "Launched", data: null, at },
      ]);
      expect(seqs).toHaveLength(3);
      expect(seqs[1]).toBeGreaterThan(seqs[0] ?? Infinity);
      expect(seqs[2]).toBeGreaterThan(seqs[1] ?? Infinity);
      expect(await store.read(runId)).toEqual([
        { seq: seqs[0], runId, at: at.toISOString(), type: "IssuesLoaded", data: { issues: [10, 11], note: "ünïcode ✓", nested: { deep: [null, true, 1.5] } } },
        { seq: seqs[1], runId, at: at.toISOString(), type: "Warmed", data: "issue-10" },
        { seq: seqs[2], runId, at: at.toISOString(), type: "Launched", data: null },
      ]);
    });

    it("stamps an event given no time with the store's clock, as ISO 8601", async () => {
      const runId = await store.startRun(null);
      const before = Date.now();
      await store.append(runId, events("Ticked"));
      const [event] = await store.read(runId);
      expect(event?.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Date.parse(event?.at ?? "")).toBeGreaterThanOrEqual(before - 1000);
    });

    it("keeps seqs increasing across batches and runs, and each run's events apart", async () => {
      const first = await store.startRun({ n: 1 });
      const second = await store.startRun({ n: 2 });
      const a = await store.append(first, events("A1", "A2"));
      const b = await store.append(second, events("B1"));
      const c = await store.append(first, events("A3"));
      const all = [...a, ...b, ...c];
      expect(all).toEqual([...all].sort((x, y) => x - y));
      expect(new Set(all).size).toBe(4);
      expect((await store.read(first)).map((event) => event.type)).toEqual(["A1", "A2", "A3"]);
      expect((await store.read(second)).map((event) => event.type)).toEqual(["B1"]);
    });

    it("reads a run from a seq on (inclusive), and since a seq (exclusive) across runs, by run and by limit", async () => {
      const first = await store.startRun(null);
      const second = await store.startRun(null);
      const [s1, s2, s3] = await store.append(first, events("A1", "A2", "A3"));
      const [t1] = await store.append(second, events("B1"));
      expect((await store.read(first, s2)).map((event) => event.seq)).toEqual([s2, s3]);
      expect((await store.readSince(s1 ?? 0)).map((event) => event.type)).toEqual(["A2", "A3", "B1"]);
      expect((await store.readSince(s1 ?? 0, { runId: second })).map((event) => event.seq)).toEqual([t1]);
      expect((await store.readSince(0, { limit: 2 })).map((event) => event.type)).toEqual(["A1", "A2"]);
      expect(await store.readSince(t1 ?? 0)).toEqual([]);
    });

    it("lists runs oldest first with their meta and latest seq; latestRun is the newest", async () => {
      const at = new Date("2026-03-04T05:06:07.000Z");
      const first = await store.startRun({ label: "ready", maxParallel: 3 }, at);
      const second = await store.startRun({ label: "other" }, at);
      expect(first).not.toBe(second);
      const [, last] = await store.append(first, events("A1", "A2"));
      const runs = await store.runs();
      expect(runs).toEqual([
        { runId: first, startedAt: at.toISOString(), meta: { label: "ready", maxParallel: 3 }, lastSeq: last },
        { runId: second, startedAt: at.toISOString(), meta: { label: "other" }, lastSeq: undefined },
      ]);
      expect(await store.latestRun()).toEqual(runs[1]);
    });

    it("gives run ids that start with the start time, so they sort by it", async () => {
      const runId = await store.startRun(null, new Date("2026-01-26T14:16:00.500Z"));
      expect(runId).toMatch(/^20260126-141600-[0-9a-f]+$/);
    });

    it("appends all of a batch or none of it: a failure mid-batch leaves nothing and the store usable", async () => {
      const runId = await store.startRun(null);
      const [before] = await store.append(runId, events("Before"));
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const batch: NewEvent[] = [...events("Kept1", "Kept2"), { type: "Bad", data: cyclic as unknown as Json }, ...events("After")];
      await expect(store.append(runId, batch)).rejects.toBeInstanceOf(InternalError);
      await expect(store.append(runId, [{ type: "Fine", data: 1 }, { type: "", data: 2 }])).rejects.toBeInstanceOf(InternalError);
      expect((await store.read(runId)).map((event) => event.type)).toEqual(["Before"]);
      const [next] = await store.append(runId, events("Next"));
      expect(next).toBeGreaterThan(before ?? Infinity);
      expect((await store.read(runId)).map((event) => event.type)).toEqual(["Before", "Next"]);
    });

    it("refuses a batch for a run it never started, and takes an empty batch as nothing", async () => {
      await expect(store.append("20260101-000000-000000", events("X"))).rejects.toBeInstanceOf(InternalError);
      const runId = await store.startRun(null);
      expect(await store.append(runId, [])).toEqual([]);
      expect(await store.read(runId)).toEqual([]);
    });

    it("keeps what was appended, not the caller's objects: changing them later changes nothing stored", async () => {
      const runId = await store.startRun(null);
      const data = { list: [1, 2] };
      await store.append(runId, [{ type: "T", data }]);
      data.list.push(3);
      const [read] = await store.read(runId);
      expect(read?.data).toEqual({ list: [1, 2] });
      (read?.data as { list: number[] }).list.push(4);
      expect((await store.read(runId))[0]?.data).toEqual({ list: [1, 2] });
    });

    it("shows a second store on the same place every run and event, as they are appended", async () => {
      const runId = await store.startRun({ who: "writer" });
      const reader = await world.another();
      try {
        await store.append(runId, events("E1"));
        expect((await reader.read(runId)).map((event) => event.type)).toEqual(["E1"]);
        await store.append(runId, events("E2", "E3"));
        expect((await reader.readSince(0)).map((event) => event.type)).toEqual(["E1", "E2", "E3"]);
        expect((await reader.latestRun())?.runId).toBe(runId);
      } finally {
        await reader.close();
      }
    });

    it("keeps everything through close and reopen", async () => {
      const runId = await store.startRun({ kept: true });
      await store.append(runId, events("E1", "E2"));
      await store.close();
      const reopened = await world.another();
      try {
        expect((await reopened.read(runId)).map((event) => event.type)).toEqual(["E1", "E2"]);
        expect((await reopened.latestRun())?.meta).toEqual({ kept: true });
      } finally {
        await reopened.close();
      }
    });

    it("refuses every call once closed", async () => {
      const runId = await store.startRun(null);
      await store.close();
      await expect(store.append(runId, events("Late"))).rejects.toBeInstanceOf(InternalError);
      await expect(store.read(runId)).rejects.toBeInstanceOf(InternalError);
      await expect(store.runs()).rejects.toBeInstanceOf(InternalError);
      await store.close();
    });
  });
}
