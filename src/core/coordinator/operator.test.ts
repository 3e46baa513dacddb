import { describe, expect, it } from "vitest";
import { operatorEvent, parseOperatorCommand } from "./operator.ts";
import { replay } from "./state.ts";

const AT = "2030-01-01T00:00:00.000Z";

describe("parseOperatorCommand (what `cspace send _coordinator` takes on the host)", () => {
  it("reads pause and resume for the run or one issue, and skip with an optional reason", () => {
    expect(parseOperatorCommand("pause")).toEqual({ ok: true, value: { kind: "pause", issue: null } });
    expect(parseOperatorCommand("  Pause #12 ")).toEqual({ ok: true, value: { kind: "pause", issue: 12 } });
    expect(parseOperatorCommand("resume 12")).toEqual({ ok: true, value: { kind: "resume", issue: 12 } });
    expect(parseOperatorCommand("skip 12 waiting on the API design")).toEqual({ ok: true, value: { kind: "skip", issue: 12, reason: "waiting on the API design" } });
    expect(parseOperatorCommand("skip 12")).toEqual({ ok: true, value: { kind: "skip", issue: 12, reason: "skipped by the operator" } });
  });

  it("refuses anything else, saying what was wrong", () => {
    expect(parseOperatorCommand("dance")).toEqual({ ok: false, error: '"dance" is not a coordinator command' });
    expect(parseOperatorCommand("pause twelve")).toEqual({ ok: false, error: 'pause takes at most an issue number, like "pause 12"' });
    expect(parseOperatorCommand("resume 12 now")).toEqual({ ok: false, error: 'resume takes at most an issue number, like "resume 12"' });
    expect(parseOperatorCommand("skip")).toMatchObject({ ok: false, error: expect.stringContaining("skip needs an issue number") as string });
    expect(parseOperatorCommand("skip 0")).toMatchObject({ ok: false });
  });
});

describe("operatorEvent", () => {
  const state = replay([
    {
      type: "RunStarted",
      at: AT,
      runId: "r1",
      selected: [10, 12],
      graph: { nodes: [{ number: 10, dependencies: [], external: [] }, { number: 12, dependencies: [10], external: [] }], order: [10, 12] },
      settings: { featureBranch: "main", maxParallel: 2, maxAttempts: 2, review: false, stacking: true, verify: { all: null, e2e: null } },
    },
    { type: "IssuesLoaded", at: AT, issues: [10, 12].map((n) => ({ number: n, title: `Issue ${String(n)}`, state: "open" as const, url: null })), external: [] },
  ]);

  it("is the event the command records", () => {
    expect(operatorEvent(state, { kind: "pause", issue: null }, AT)).toEqual({ ok: true, value: { type: "Paused", at: AT, issue: null } });
    expect(operatorEvent(state, { kind: "resume", issue: 12 }, AT)).toEqual({ ok: true, value: { type: "Resumed", at: AT, issue: 12 } });
    expect(operatorEvent(state, { kind: "skip", issue: 10, reason: "no" }, AT)).toEqual({ ok: true, value: { type: "Skipped", at: AT, issue: 10, reason: "no" } });
  });

  it("refuses an issue that is not in the run, naming those that are", () => {
    expect(operatorEvent(state, { kind: "skip", issue: 99, reason: "no" }, AT)).toEqual({ ok: false, error: "#99 is not in this run (#10, #12)" });
  });
});
