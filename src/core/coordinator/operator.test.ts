import { describe, expect, it } from "vitest";
import type { CoordinatorEvent } from "./events.ts";
import { operatorDone, operatorEvent, parseOperatorCommand } from "./operator.ts";
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

describe("reset (a fresh start for an issue of a running coordinator)", () => {
  const base = [
    {
      type: "RunStarted",
      at: AT,
      runId: "r1",
      selected: [10, 12],
      graph: { nodes: [{ number: 10, dependencies: [], external: [] }, { number: 12, dependencies: [10], external: [] }], order: [10, 12] },
      settings: { featureBranch: "main", maxParallel: 2, maxAttempts: 2, review: false, stacking: true, verify: { all: null, e2e: null } },
    },
    { type: "IssuesLoaded", at: AT, issues: [10, 12].map((n) => ({ number: n, title: `Issue ${String(n)}`, state: "open" as const, url: null })), external: [] },
  ] as const satisfies readonly CoordinatorEvent[];
  const launched10: CoordinatorEvent = { type: "Launched", at: AT, issue: 10, attempt: 1, why: "initial", prompt: { kind: "implementer" }, base: "main", baseSha: "m0", headSha: "m0" };

  it("reads reset with exactly one issue number", () => {
    expect(parseOperatorCommand("reset 12")).toEqual({ ok: true, value: { kind: "reset", issue: 12 } });
    expect(parseOperatorCommand("Reset #12")).toEqual({ ok: true, value: { kind: "reset", issue: 12 } });
    expect(parseOperatorCommand("reset")).toEqual({ ok: false, error: 'reset takes one issue number, like "reset 12"' });
    expect(parseOperatorCommand("reset 12 13")).toEqual({ ok: false, error: 'reset takes one issue number, like "reset 12"' });
  });

  it("marks an issue not launched yet to start fresh, and the next launch asks for it", () => {
    const recorded = operatorEvent(replay(base), { kind: "reset", issue: 12 }, AT);
    expect(recorded).toEqual({ ok: true, value: { type: "FreshStartRequested", at: AT, issue: 12, by: "operator" } });
    if (!recorded.ok) return;
    const after = replay([...base, recorded.value]);
    expect(after.issues[12]?.freshStart).toBe(true);
    expect(after.issues[10]?.freshStart).toBe(false);
    expect(operatorDone({ kind: "reset", issue: 12 })).toBe("#12 will start fresh from its base at its first launch: the issue-12 an earlier run left is discarded");
  });

  it("resets an issue already started in this run (reset.test.ts), and refuses one not in it", () => {
    expect(operatorEvent(replay([...base, launched10]), { kind: "reset", issue: 10 }, AT)).toEqual({
      ok: true,
      value: { type: "ResetRequested", at: AT, issue: 10, attempt: 1, unblocks: [] },
    });
    expect(operatorEvent(replay(base), { kind: "reset", issue: 99 }, AT)).toEqual({ ok: false, error: "#99 is not in this run (#10, #12)" });
  });
});
