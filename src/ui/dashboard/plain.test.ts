import { describe, expect, it } from "vitest";
import { frame, model, row } from "../../../test/support/dashboard-frames.ts";
import { changeLines, frameJson } from "./plain.ts";

describe("status --watch without a terminal", () => {
  it("prints the header and every row at first, then only what changed, and what needs you once per cause", () => {
    const first = frame(model([row(1, "working", { state: "attempt 1 running" }), row(2, "waiting")]));
    expect(changeLines(null, first, "10:00:00")).toEqual([
      "10:00:00 run 20261206-2330-ab12 running: 0 merged, 1 working, 1 waiting, 0 failed, 0 blocked; $0.42 of $10.00",
      "10:00:00 #1 Issue number 1: attempt 1 running",
      "10:00:00 #2 Issue number 2: waiting on #1",
    ]);
    const failed = { kind: "failed" as const, issue: 1, cause: "failed:1:1", reason: "verify failed: npm test exited 1" };
    const second = frame(model([row(1, "failed", { state: "failed: verify", needsYou: true }), row(2, "waiting")], { needsYou: [failed] }));
    expect(changeLines(first, second, "10:05:00")).toEqual([
      "10:05:00 run 20261206-2330-ab12 running: 0 merged, 0 working, 1 waiting, 1 failed, 0 blocked; $0.42 of $10.00",
      "10:05:00 #1 Issue number 1: failed: verify",
      "10:05:00 needs you: #1 verify failed: npm test exited 1",
    ]);
    expect(changeLines(second, second, "10:06:00")).toEqual([]);
  });

  it("--json: one line per frame, the agents' last lines keyed by issue", () => {
    const line = frameJson(frame(model([row(1, "working")]), { 1: "editing" }));
    expect(line).not.toContain("\n");
    const parsed = JSON.parse(line) as { kind: string; lastLines: Record<string, string>; model: { rows: unknown[] } };
    expect([parsed.kind, parsed.lastLines, parsed.model.rows.length]).toEqual(["frame", { 1: "editing" }, 1]);
  });
});
