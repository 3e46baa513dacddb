import { describe, expect, it } from "vitest";
import { needsYou } from "./needs-you.ts";
import { simulate } from "./simulate.ts";

describe("what needs a person", () => {
  it("lists a failed issue once, not the dependents it blocks, and names a new cause for each attempt", () => {
    const { state } = simulate({ issues: { 10: [], 12: [10], 13: [] }, settings: { maxAttempts: 1 }, scripts: { 10: { attempts: ["crash"] } } });
    const listed = needsYou(state);
    expect(listed.map(({ kind, issue, cause }) => ({ kind, issue, cause }))).toEqual([{ kind: "failed", issue: 10, cause: "failed:10:1" }]);
    expect(listed[0]?.reason).toContain("SIGKILL");
  });

  it("is empty for a run where every issue merged", () => {
    expect(needsYou(simulate({ issues: { 10: [], 11: [10] } }).state)).toEqual([]);
  });
});
