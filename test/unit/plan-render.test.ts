import { describe, expect, it } from "vitest";
import { issue } from "../fakes/issues.ts";
import { buildDependencyGraph } from "../../src/core/graph/dependency-graph.ts";
import { planRound, type Plan } from "../../src/core/plan/planner.ts";
import { renderPlanMermaid } from "../../src/ui/plan-mermaid.ts";
import { renderPlanTable } from "../../src/ui/plan-table.ts";
import { plainPaint } from "../../src/ui/tone.ts";

/**
 * `cspace plan` outside a run starts from nothing launched, so it never
 * prints a stacked launch; the planner forecasts one once the dependency runs
 * (during a run, plan reads what it launched). Its rendering is checked here,
 * on the planner's own output.
 */
function planWithTenRunning(): Plan {
  const issues = [issue(10, { title: "Login page" }), issue(12, { title: "Session store", deps: [10] }), issue(14, { title: "Single sign-on", deps: [12] })];
  const selected = issues.map((i) => i.number);
  return planRound({
    graph: buildDependencyGraph(issues, { selected, repo: null }),
    issues,
    selected,
    featureBranch: "main",
    maxParallel: 4,
    launched: new Set([10]),
    merged: new Set(),
    externalStates: new Map(),
  });
}

describe("the plan's table and mermaid graph", () => {
  it("show an issue stacked on a running dependency as a stacked launch on its branch", () => {
    const plan = planWithTenRunning();
    const table = renderPlanTable(plan, plainPaint);
    expect(table).toContainEqual(expect.stringMatching(/^#10\s+Login page\s+-\s+-\s+running$/));
    expect(table).toContainEqual(expect.stringMatching(/^#12\s+Session store\s+#10\s+issue-10\s+launch \(stacked\)$/));
    expect(table).toContainEqual(expect.stringMatching(/^#14\s+Single sign-on\s+#12\s+-\s+wait for #12$/));
    expect(renderPlanMermaid(plan)).toContain('  i12["#12 Session store<br/>launch (stacked) on issue-10"]:::launch');
  });

  it("show an issue a run holds back with the run's reason, in the table and the graph", () => {
    const issues = [issue(10, { title: "Login page" }), issue(11, { title: "Greeting" })];
    const selected = [10, 11];
    const reason = "held: will conflict with issue-10 in src/app.ts; starts once #10 merges";
    const plan = planRound({
      graph: buildDependencyGraph(issues, { selected, repo: null }),
      issues,
      selected,
      featureBranch: "main",
      maxParallel: 4,
      launched: new Set([10]),
      merged: new Set(),
      externalStates: new Map(),
      held: new Map([[11, { reason, on: 10 }]]),
    });
    expect(renderPlanTable(plan, plainPaint)).toContainEqual(expect.stringMatching(/^#11\s+Greeting\s+-\s+-\s+held: will conflict with issue-10 in src\/app\.ts; starts once #10 merges$/));
    expect(renderPlanMermaid(plan).join("\n")).toContain("held: will conflict with issue-10");
  });
});
