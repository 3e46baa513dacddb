import { describe, expect, it } from "vitest";
import { checkMirrorPath, MIRROR_STREAM, MirrorLedger, parseHostFrame, parseWorkerFrame } from "./mirror-protocol.ts";

const LIMITS = { events: 1000, log: 500, record: 100 };
const b64 = (bytes: number): string => Buffer.alloc(bytes, 0x61).toString("base64");

describe("the names the mirror carries", () => {
  it.each([
    ["events.ndjson", "events"],
    ["events.1.ndjson", "events"],
    ["supervisor.log", "log"],
    ["state.json", "record"],
    ["supervisor.pid", "record"],
    ["outbox/issue-1-20260501T100000000Z-ab12cd.json", "record"],
    ["outbox/delivered/issue-1-20260501T100000000Z-ab12cd.json", "record"],
  ])("%s is a %s file", (path, kind) => {
    expect(checkMirrorPath(path)).toEqual({ ok: true, kind });
  });

  it.each([
    ["../state.json", /"\.\." part/],
    ["outbox/../state.json", /"\.\." part/],
    ["./state.json", /an empty, "\." or "\.\." part/],
    ["outbox//x.json", /empty/],
    ["/run/cspace/state.json", /absolute/],
    ["state.json\u0000", /NUL/],
    ["outbox\\x.json", /backslash/],
    ["w.sock", /not a file cspace mirrors/],
    ["c.sock", /not a file cspace mirrors/],
    ["launch.json", /not a file cspace mirrors/],
    ["prompt.md", /not a file cspace mirrors/],
    ["outbox/.state.json.123.tmp", /not a file cspace mirrors/],
    ["outbox/x.txt", /not a file cspace mirrors/],
    ["outbox/delivered/deeper/x.json", /not a file cspace mirrors/],
    ["state.json/x.json", /not a file cspace mirrors/],
    ["", /empty/],
    [`outbox/${"a".repeat(300)}.json`, /longer than/],
  ])("%j is refused", (path, reason) => {
    const check = checkMirrorPath(path);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toMatch(reason);
  });

  it("refuses what is not a string", () => {
    expect(checkMirrorPath(42)).toEqual({ ok: false, reason: "the path is not a string" });
  });
});

describe("parsing the worker's frames", () => {
  it("reads each kind", () => {
    expect(parseWorkerFrame('{"t":"append","path":"events.ndjson","offset":3,"data":"YWJj"}')).toEqual({ ok: true, frame: { t: "append", path: "events.ndjson", offset: 3, data: "YWJj" } });
    expect(parseWorkerFrame('{"t":"move","from":"events.ndjson","to":"events.1.ndjson"}')).toEqual({ ok: true, frame: { t: "move", from: "events.ndjson", to: "events.1.ndjson" } });
    expect(parseWorkerFrame('{"t":"synced","id":4}')).toEqual({ ok: true, frame: { t: "synced", id: 4 } });
  });

  it.each([
    ["not JSON", "{", /not JSON/],
    ["an array", "[]", /not a JSON object/],
    ["an extra field", '{"t":"beat","x":1}', /with fields/],
    ["a negative offset", '{"t":"append","path":"events.ndjson","offset":-1,"data":""}', /offset/],
    ["a fractional offset", '{"t":"append","path":"events.ndjson","offset":1.5,"data":""}', /offset/],
    ["data that is not base64", '{"t":"put","path":"state.json","data":"a b="}', /base64/],
    ["an unknown type", '{"t":"exec","cmd":"sh"}', /unknown type "exec"/],
    ["a long note", JSON.stringify({ t: "note", text: "x".repeat(2000) }), /1000 characters/],
  ])("refuses %s", (_what, line, reason) => {
    const parsed = parseWorkerFrame(line);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });

  it("refuses a host frame of another protocol version", () => {
    expect(parseHostFrame('{"t":"have","v":2,"limits":{},"files":{}}')).toMatchObject({ ok: false, reason: expect.stringMatching(/version 2/) as unknown });
  });
});

describe("the host's ledger", () => {
  it("appends only at the size it holds, and records each change", () => {
    const ledger = new MirrorLedger(LIMITS, { "events.ndjson": { size: 10 } });
    expect(ledger.check({ t: "append", path: "events.ndjson", offset: 9, data: b64(3) })).toMatchObject({ ok: false, reason: expect.stringMatching(/offset 9, but the host holds 10 bytes/) as unknown });
    const ok = ledger.check({ t: "append", path: "events.ndjson", offset: 10, data: b64(3) });
    expect(ok).toEqual({ ok: true, change: { op: "append", path: "events.ndjson", offset: 10, bytes: 3 } });
    if (ok.ok) ledger.apply(ok.change);
    expect(ledger.sizeOf("events.ndjson")).toBe(13);
  });

  it("refuses an append to a file it does not hold: a file starts with a put", () => {
    const ledger = new MirrorLedger(LIMITS, {});
    expect(ledger.check({ t: "append", path: "supervisor.log", offset: 0, data: b64(1) })).toMatchObject({ ok: false, reason: expect.stringMatching(/does not hold/) as unknown });
  });

  it("keeps each kind to its limit", () => {
    const ledger = new MirrorLedger(LIMITS, { "supervisor.log": { size: 499 } });
    expect(ledger.check({ t: "append", path: "supervisor.log", offset: 499, data: b64(1) }).ok).toBe(true);
    expect(ledger.check({ t: "append", path: "supervisor.log", offset: 499, data: b64(2) })).toMatchObject({ ok: false, reason: expect.stringMatching(/501 bytes, more than the 500/) as unknown });
    expect(ledger.check({ t: "put", path: "state.json", data: b64(101) })).toMatchObject({ ok: false, reason: expect.stringMatching(/more than the 100/) as unknown });
  });

  it("refuses a frame carrying more than a chunk", () => {
    const ledger = new MirrorLedger({ events: 10 * MIRROR_STREAM.chunkBytes, log: 1, record: 1 }, { "events.ndjson": { size: 0 } });
    expect(ledger.check({ t: "append", path: "events.ndjson", offset: 0, data: b64(MIRROR_STREAM.chunkBytes + 3) })).toMatchObject({ ok: false, reason: expect.stringMatching(/more than the 262144 a frame may carry/) as unknown });
  });

  it("moves only append-only files it holds, to a name of their kind", () => {
    const ledger = new MirrorLedger(LIMITS, { "events.ndjson": { size: 10 }, "state.json": { size: 5 } });
    expect(ledger.check({ t: "move", from: "events.ndjson", to: "supervisor.log" }).ok).toBe(false);
    expect(ledger.check({ t: "move", from: "state.json", to: "outbox/x.json" }).ok).toBe(false);
    const move = ledger.check({ t: "move", from: "events.ndjson", to: "events.1.ndjson" });
    expect(move.ok).toBe(true);
    if (move.ok) ledger.apply(move.change);
    expect([ledger.sizeOf("events.ndjson"), ledger.sizeOf("events.1.ndjson")]).toEqual([undefined, 10]);
  });

  it("counts files and bytes, a replaced file by its new size", () => {
    const ledger = new MirrorLedger(LIMITS, { "state.json": { size: 50 } });
    const put = ledger.check({ t: "put", path: "state.json", data: b64(20) });
    if (put.ok) ledger.apply(put.change);
    expect([ledger.files, ledger.totalBytes]).toEqual([1, 20]);
    const remove = ledger.check({ t: "remove", path: "state.json" });
    if (remove.ok) ledger.apply(remove.change);
    expect([ledger.files, ledger.totalBytes]).toEqual([0, 0]);
  });
});
