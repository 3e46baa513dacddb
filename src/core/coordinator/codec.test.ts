import { describe, expect, it } from "vitest";
import { InternalError } from "../errors.ts";
import { decodeEvent, encodeEvent, EventCodecError } from "./codec.ts";
import { coordinatorEvents, type CoordinatorEvent } from "./events.ts";
import { replayLog } from "./log.ts";
import { simulate } from "./simulate.ts";
import { replay } from "./state.ts";

const AT = "2030-01-01T00:00:00.000Z";

describe("the event codec between the coordinator and the event store", () => {
  it("stores every event as type, time and JSON data with its version, and gives back the same event", () => {
    const { events, state } = simulate({ issues: { 10: [], 12: [10] }, settings: { review: true }, scripts: { 12: { restack: ["conflict"], attempts: ["crash"] } } });
    const rows = events.map(encodeEvent).map((row) => ({ type: row.type, at: row.at?.toISOString() ?? "", data: JSON.parse(JSON.stringify(row.data)) as never }));
    expect(rows[0]).toMatchObject({ type: "RunStarted", at: "2030-01-01T00:00:00.000Z", data: { runId: "sim", v: 1 } });
    expect(rows[0]?.data).not.toHaveProperty("type");
    const decoded = rows.map(decodeEvent);
    expect(decoded).toEqual(events);
    expect(replay(decoded)).toEqual(state);
  });

  it("refuses to write what does not fit its schema or JSON, and to read what it does not know", () => {
    const bad = { type: "Verified", at: AT, issue: Number.NaN, headSha: "a" } satisfies CoordinatorEvent;
    expect(() => encodeEvent(bad)).toThrow(InternalError);
    expect(() => decodeEvent({ type: "Teleported", at: AT, data: {} })).toThrow(/does not know/);
    expect(() => decodeEvent({ type: "Verified", at: AT, data: [] })).toThrow(EventCodecError);
  });

  it("refuses a stored event whose fields do not fit, naming the field", () => {
    const report = { id: "x", outcome: "bogus" };
    expect(() => decodeEvent({ type: "Reported", at: AT, data: { issue: 10, attempt: 1, report } })).toThrow(/Reported\.report\.instance/);
    expect(() => decodeEvent({ type: "Reported", at: AT, data: { issue: 10, attempt: 1, report } })).toThrow(/Reported\.report\.outcome/);
    expect(() => decodeEvent({ type: "Pushed", at: AT, data: { issue: "10", headSha: "a", forced: false } })).toThrow(/Pushed\.issue/);
  });

  it("upcasts an older version: a RunFinished written before `abandoned` existed reads as not abandoned", () => {
    expect(coordinatorEvents.RunFinished.version).toBe(2);
    expect(decodeEvent({ type: "RunFinished", at: AT, data: { exitCode: 0 } })).toEqual({ type: "RunFinished", at: AT, exitCode: 0, abandoned: null });
    expect(decodeEvent({ type: "RunFinished", at: AT, data: { exitCode: 1, v: 1 } })).toEqual({ type: "RunFinished", at: AT, exitCode: 1, abandoned: null });
    expect(() => decodeEvent({ type: "RunFinished", at: AT, data: { exitCode: 1, abandoned: null, v: 3 } })).toThrow(/newer than this cspace/);
  });

  it("declares every event type once, with a version whose every older version has an upcaster", () => {
    for (const [type, entry] of Object.entries(coordinatorEvents)) {
      expect(entry.type).toBe(type);
      for (let from = 1; from < entry.version; from++) expect(entry.upcast[from], `${type} from v${String(from)}`).toBeTypeOf("function");
    }
  });
});

describe("replaying a log with an event that cannot be applied", () => {
  const { events } = simulate({ issues: { 10: [] } });
  const rows = events.map(encodeEvent).map((row, i) => ({ seq: i + 1, type: row.type, at: row.at?.toISOString() ?? AT, data: row.data }));

  it("skips the event, names it by its sequence number and folds the rest", () => {
    const launched = rows.findIndex((row) => row.type === "Reported");
    const poisoned = rows.map((row, i) => (i === launched ? { ...row, data: { issue: 10, attempt: 1, report: { id: "x", outcome: "bogus" } } } : row));
    const { state, problems } = replayLog(poisoned);
    expect(problems).toEqual([{ seq: launched + 1, type: "Reported", reason: expect.stringContaining("Reported.report.outcome") as unknown }]);
    expect(state.run?.runId).toBe("sim");
    expect(state.finished).not.toBeNull();
  });

  it("reads a clean log with no problems and the same state as the fold", () => {
    const { state, problems } = replayLog(rows);
    expect(problems).toEqual([]);
    expect(state).toEqual(replay(events));
  });
});
