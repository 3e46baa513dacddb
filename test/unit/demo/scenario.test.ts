import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/core/errors.ts";
import { demo } from "../../../src/services/demo/demo.ts";
import { DEMO_ISSUES, demoIssues } from "../../../src/services/demo/scenario.ts";

describe("cspace demo --issues N", () => {
  it("is the seven issues of the README by default", () => {
    expect(demoIssues(7)).toEqual(DEMO_ISSUES);
  });

  it("repeats the shape (chain, diamond, independent issue, same-line pair) with files of their own, cut at N", () => {
    const ten = demoIssues(10);
    expect(ten.map((issue) => issue.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // The second group's chain and diamond start at 8: 9 and 10 build on 8.
    expect(ten.slice(7).map((issue) => [issue.number, issue.blockedBy])).toEqual([[8, []], [9, [8]], [10, [8]]]);
    expect(ten[7]?.path).toBe("settings-2.txt");
    expect(ten[7]?.title).toBe("Add the settings file (part 2)");
  });

  it("makes a valid graph for every N from 1 to 50: dependencies earlier in the run, only same-line pairs share a file", () => {
    for (let n = 1; n <= 50; n++) {
      const issues = demoIssues(n);
      expect(issues).toHaveLength(n);
      for (const issue of issues) for (const dependency of issue.blockedBy) expect(dependency).toBeLessThan(issue.number);
      const byPath = new Map<string, number[]>();
      for (const issue of issues) byPath.set(issue.path, [...(byPath.get(issue.path) ?? []), issue.number]);
      // Files shared only by a group's pair (6 and 7, 13 and 14, …): the one merged second is rebased.
      for (const numbers of byPath.values()) expect(numbers.length === 1 || (numbers.length === 2 && numbers[0] !== undefined && numbers[0] % 7 === 6)).toBe(true);
    }
  });

  it("refuses a count outside 1 to 50 before making anything (exit 2)", async () => {
    await expect(demo({ env: {}, issues: 0 })).rejects.toThrow(UserError);
    await expect(demo({ env: {}, issues: 51 })).rejects.toThrow("--issues 51 is not a number of issues from 1 to 50");
    await expect(demo({ env: {}, issues: Number.NaN })).rejects.toThrow(UserError);
  });
});
