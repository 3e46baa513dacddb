import { describe, expect, it } from "vitest";
import { issue, issuesFrom } from "../../../test/fakes/issues.ts";
import type { Issue } from "../issues/issue.ts";
import { buildDependencyGraph, formatIssueList, type DependencyGraph } from "./dependency-graph.ts";
import { userErrorFrom } from "../../../test/support/errors.ts";

const build = (issues: readonly Issue[], selected: readonly number[], repo: string | null = "acme/app"): DependencyGraph =>
  buildDependencyGraph(issues, { selected, repo });

describe("buildDependencyGraph", () => {
  it("covers the selected issues and, transitively, what they depend on", () => {
    const graph = build(issuesFrom({ 1: [], 2: [1], 3: [2], 4: [], 5: [4] }), [3]);
    expect([...graph.nodes.keys()].sort()).toEqual([1, 2, 3]);
    expect(graph.nodes.get(2)).toEqual({ number: 2, dependencies: [1], external: [], dependents: [3] });
  });

  it("orders issues in topological rounds, ascending inside a round", () => {
    const graph = build(issuesFrom({ 9: [], 3: [9], 5: [], 7: [3, 5], 1: [7] }), [1, 3, 5, 7, 9]);
    expect(graph.rounds).toEqual([[5, 9], [3], [7], [1]]);
    expect(graph.order).toEqual([5, 9, 3, 7, 1]);
  });

  it("sorts dependencies and dependents and merges repeated references", () => {
    const issues = [issue(1), issue(2), issue(3, { body: "blocked-by: #2, #1\nrequires #2\nrequires acme/app#1" })];
    const graph = build(issues, [3]);
    expect(graph.nodes.get(3)?.dependencies).toEqual([1, 2]);
    expect(graph.nodes.get(1)?.dependents).toEqual([3]);
  });

  it("treats this repository's qualified references and URLs as internal, any case", () => {
    const body = "requires ACME/App#1\nrequires https://github.com/acme/app/issues/2";
    const graph = build([issue(1), issue(2), issue(3, { body })], [3]);
    expect(graph.nodes.get(3)).toMatchObject({ dependencies: [1, 2], external: [] });
  });

  it("keeps other repositories' references as external dependencies", () => {
    const body = "blocked-by: other/lib#4, https://ghe.corp/x/y/pull/5, Other/Lib#4";
    const graph = build([issue(1, { body })], [1]);
    expect(graph.nodes.get(1)).toMatchObject({ dependencies: [], external: ["other/lib#4", "x/y#5"] });
  });

  it("treats every qualified reference as external when the repository is unknown", () => {
    const graph = build([issue(1), issue(2, { body: "requires acme/app#1" })], [2], null);
    expect(graph.nodes.get(2)).toMatchObject({ dependencies: [], external: ["acme/app#1"] });
  });

  it("does not follow a closed issue's dependency lines", () => {
    const issues = [issue(1, { state: "closed", body: "blocked-by: #1, #404" }), issue(2, { deps: [1] })];
    expect(build(issues, [2]).nodes.get(1)?.dependencies).toEqual([]);
  });

  it("rejects selected issues that do not exist, listing the known ones", () => {
    const error = userErrorFrom(() => build(issuesFrom({ 1: [], 2: [], 3: [], 5: [] }), [1, 99, 98]));
    expect(error.message).toBe("issues #98, #99 do not exist; known issues: #1–#3, #5");
    expect(userErrorFrom(() => build([], [7])).message).toBe("issue #7 does not exist; known issues: none");
  });

  it("rejects a self-reference, quoting the line", () => {
    const error = userErrorFrom(() => build([issue(12, { body: "blocked-by: #12" })], [12]));
    expect(error.message).toBe('issue #12 depends on itself (line "blocked-by: #12")');
  });

  it("rejects a dependency on a missing issue, naming both", () => {
    const error = userErrorFrom(() => build([issue(12, { body: "Depends on #40" })], [12]));
    expect(error.message).toBe('issue #12 depends on #40, which does not exist (line "Depends on #40")');
  });

  it("rejects a cycle, naming every issue in order and the lines to remove", () => {
    const issues = [issue(10, { deps: [12] }), issue(12, { body: "depends on #13" }), issue(13, { body: "requires #10" })];
    const error = userErrorFrom(() => build(issues, [10]));
    expect(error.message).toBe(
      'dependency cycle: #10 → #12 → #13 → #10 (each depends on the next); lines: #10: "blocked-by: #12", #12: "depends on #13", #13: "requires #10"',
    );
    expect(error.hint).toMatch(/remove one of the listed blocked-by lines/i);
  });

  it("reports every cycle and every broken reference, in issue order", () => {
    const issues = issuesFrom({ 1: [2], 2: [1], 5: [6], 6: [7], 7: [5], 8: [8], 9: [99], 10: [1, 5] });
    const error = userErrorFrom(() => build(issues, [8, 9, 10]));
    expect(error.message.split("\n").map((line) => line.replace(/ \(each.*| \(line.*/, ""))).toEqual([
      "4 problems in issue dependencies:",
      "  - dependency cycle: #1 → #2 → #1",
      "  - dependency cycle: #5 → #6 → #7 → #5",
      "  - issue #8 depends on itself",
      "  - issue #9 depends on #99, which does not exist",
    ]);
  });

  it("names the shortest cycle through the smallest issue and the others tangled with it", () => {
    const error = userErrorFrom(() => build(issuesFrom({ 1: [2], 2: [3, 1], 3: [1] }), [1]));
    expect(error.message).toMatch(/^dependency cycle: #1 → #2 → #1 \(each depends on the next; also caught in it: #3\)/);
  });

  it("finds a cycle at the end of a 10,000-issue chain without overflowing the stack", () => {
    const deps: Record<number, number[]> = {};
    for (let n = 1; n <= 10_000; n++) deps[n] = n < 10_000 ? [n + 1] : [1];
    const error = userErrorFrom(() => build(issuesFrom(deps), [1]));
    expect(error.message).toMatch(/^dependency cycle: #1 → #2 → #3 → .* → #10000 → #1 /);
  });

  it("orders 10,000 issues with two dependencies each (speed: bench/plan)", () => {
    const deps: Record<number, number[]> = {};
    for (let n = 1; n <= 10_000; n++) deps[n] = [n - 1, Math.floor(n / 2)].filter((d) => d >= 1 && d !== n);
    const issues = issuesFrom(deps);
    const selected = issues.map((i) => i.number);
    const graph = build(issues, selected);
    expect(graph.order).toHaveLength(10_000);
  });
});

describe("formatIssueList", () => {
  it("collapses runs and cuts long lists short", () => {
    expect(formatIssueList([3, 1, 2, 5, 7, 8])).toBe("#1–#3, #5, #7, #8");
    const sparse = Array.from({ length: 30 }, (_, i) => i * 2 + 1);
    expect(formatIssueList(sparse)).toBe(`${sparse.slice(0, 12).map((n) => `#${n}`).join(", ")}, … (30 issues)`);
  });
});
