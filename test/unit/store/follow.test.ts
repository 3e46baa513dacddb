import { describe, expect, it } from "vitest";
import { followEvents } from "../../../src/core/coordinator-store/follow.ts";
import type { StoredEvent } from "../../../src/core/coordinator-store/port.ts";
import { FakeEventStore } from "../../fakes/event-store.ts";

describe("followEvents", () => {
  it("yields every event after the given seq, batch by batch as they are appended, and stops when aborted", async () => {
    const store = new FakeEventStore();
    const runId = await store.startRun(null);
    const other = await store.startRun(null);
    const [first] = await store.append(runId, [{ type: "Skipped", data: null }]);
    await store.append(runId, [{ type: "A", data: 1 }]);
    const stop = new AbortController();
    const seen: StoredEvent[][] = [];
    for await (const batch of followEvents(store, { after: first ?? 0, runId, intervalMs: 1, signal: stop.signal })) {
      seen.push(batch);
      if (seen.length === 1) {
        await store.append(other, [{ type: "Elsewhere", data: null }]);
        await store.append(runId, [{ type: "B", data: 2 }, { type: "C", data: 3 }]);
      } else {
        stop.abort();
      }
    }
    expect(seen.map((batch) => batch.map((event) => event.type))).toEqual([["A"], ["B", "C"]]);
  });

  it("yields an empty batch when nothing came for heartbeatMs, so a view can tick, and the events as they come", async () => {
    const store = new FakeEventStore();
    const runId = await store.startRun(null);
    const stop = new AbortController();
    const seen: string[][] = [];
    for await (const batch of followEvents(store, { after: 0, runId, intervalMs: 1, heartbeatMs: 1, signal: stop.signal })) {
      seen.push(batch.map((event) => event.type));
      if (seen.length === 1) await store.append(runId, [{ type: "A", data: 1 }]);
      if (seen.length === 3) stop.abort();
    }
    expect(seen).toEqual([[], ["A"], []]);
  });
});
