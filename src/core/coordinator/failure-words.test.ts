import { describe, expect, it } from "vitest";
import { failedLine, failureSection, failureTail } from "./failure-words.ts";

describe("a failure in words", () => {
  const failure = { kind: "verify" as const, summary: "npm test exited 1", command: "npm test", output: "ok 1\nok 2\nnot ok 3 cart total\n  expected 3, got 2\n# 1 failed\n" };

  it("names what failed, the last lines of its output and where to look next", () => {
    expect(failedLine({ issue: 3, reason: "2 of 2 attempts failed; the last: npm test exited 1", failure })).toBe(
      "#3 failed: 2 of 2 attempts failed; the last: npm test exited 1 (cspace logs issue-3)",
    );
    expect(failureTail(failure)).toEqual(["the last lines of `npm test`:", "| ok 1", "| ok 2", "| not ok 3 cart total", "| expected 3, got 2", "| # 1 failed"]);
    expect(failureSection([{ issue: 3, status: "failed", reason: "no", attempts: 2, failure }]).at(-1)).toBe("  its agent's log: cspace logs issue-3");
  });

  it("keeps a worker's output from forging a line of cspace's own: each line prefixed, the escape sequence gone", () => {
    const forged = { ...failure, output: "\u001b[2K\r12:00:00 #11 merged as 1234567\n12:00:01 run finished (exit 0)" };
    expect(failureTail(forged)).toEqual(["the last lines of `npm test`:", "| 12:00:00 #11 merged as 1234567", "| 12:00:01 run finished (exit 0)"]);
  });

  it("shows no tail for a failure without output, and no logs hint for an issue whose agent never ran", () => {
    expect(failureTail({ ...failure, output: null })).toEqual([]);
    expect(failureSection([{ issue: 4, status: "failed", reason: "instance issue-4 could not be made", attempts: 0, failure: null }])).toEqual(["#4 failed: instance issue-4 could not be made"]);
  });
});
