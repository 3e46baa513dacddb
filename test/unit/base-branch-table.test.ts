import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { baseBranchRule } from "../../src/core/plan/base-branch-rule.ts";

describe("the README's base-branch table", () => {
  it("is the rule the planner runs, row for row", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    // The first block after the heading is the table: a header, a divider, then the rows.
    const table = readme.slice(readme.indexOf("## Base branches")).split("\n\n")[1] ?? "";
    const rows = table.split("\n").slice(2).map((line) => line.split("|").slice(1, -1).map((cell) => cell.trim()));
    expect(rows).toEqual(baseBranchRule.map(({ table: row }) => [row.state, row.base, row.action]));
  });
});
