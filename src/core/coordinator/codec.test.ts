import { describe, expect, it } from "vitest";
import { InternalError, UserError } from "../errors.ts";
import { decodeEvent, encodeEvent } from "./codec.ts";
import type { CoordinatorEvent } from "./events.ts";
import { simulate } from "./simulate.ts";
import { replay } from "./state.ts";

describe("the event codec between the coordinator and the event store", () => {
  it("stores every event as type, time and JSON data, and gives back the same event", () => {
    const { events, state } = simulate({ issues: { 10: [], 12: [10] }, settings: { review: true }, scripts: { 12: { restack: ["conflict"], attempts: ["crash"] } } });
    const rows = events.map(encodeEvent).map((row) => ({ type: row.type, at: row.at?.toISOString() ?? "", data: JSON.parse(JSON.stringify(row.data)) as never }));
    expect(rows[0]).toMatchObject({ type: "RunStarted", at: "2030-01-01T00:00:00.000Z", data: { runId: "sim" } });
    expect(rows[0]?.data).not.toHaveProperty("type");
    const decoded = rows.map(decodeEvent);
    expect(decoded).toEqual(events);
    expect(replay(decoded)).toEqual(state);
  });

  it("refuses what it cannot keep or does not know", () => {
    const bad = { type: "Verified", at: "2030-01-01T00:00:00.000Z", issue: Number.NaN, headSha: "a" } satisfies CoordinatorEvent;
    expect(() => encodeEvent(bad)).toThrow(InternalError);
    expect(() => decodeEvent({ type: "Teleported", at: "2030-01-01T00:00:00.000Z", data: {} })).toThrow(UserError);
    expect(() => decodeEvent({ type: "Verified", at: "2030-01-01T00:00:00.000Z", data: [] })).toThrow(InternalError);
  });
});
