import { describe, expect, it } from "vitest";
import { aheadNotice } from "./local-ahead.ts";

describe("aheadNotice", () => {
  it("says how many commits the local branch has over the forge's, and the push that brings them into the run", () => {
    expect(aheadNotice("main", { kind: "counted", ahead: 2, behind: 0 }, "cspace")).toBe("main is 2 commits ahead of the forge's main: push them (git push cspace main) or they are not in the run");
    expect(aheadNotice("main", { kind: "counted", ahead: 1, behind: 3 }, null)).toBe(
      "main is 1 commit ahead of the forge's main (and 3 behind): push it (push main to the forge's repository) or it is not in the run",
    );
  });

  it("says nothing when the local branch has nothing the forge's lacks, or when that cannot be known", () => {
    expect(aheadNotice("main", { kind: "counted", ahead: 0, behind: 4 }, "origin")).toBeNull();
    expect(aheadNotice("main", { kind: "same" }, "origin")).toBeNull();
    expect(aheadNotice("main", { kind: "no-local" }, "origin")).toBeNull();
    expect(aheadNotice("main", { kind: "unreadable" }, "origin")).toBeNull();
    expect(aheadNotice("main", { kind: "unknown", localSha: "a".repeat(40) }, "origin")).toContain("main here (aaaaaaaaaaaa) and the forge's main have each commits the other lacks");
  });
});
