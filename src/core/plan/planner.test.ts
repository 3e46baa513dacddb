import { describe, expect, it } from "vitest";
import { issue, issuesFrom } from "../../../test/fakes/issues.ts";
import { UserError } from "../errors.ts";
import { buildDependencyGraph } from "../graph/dependency-graph.ts";
import type { Issue } from "../issues/issue.ts";
import { planRound, type Plan, type PlanInput } from "./planner.ts";

interface Scenario {
  readonly issues: readonly Issue[];
  readonly selected?: readonly number[];
  readonly maxParallel?: number;
  readonly launched?: readonly number[];
  readonly merged?: readonly number[];
  readonly external?: Readonly<Record<string, "open" | "closed">>;
  readonly held?: ReadonlyMap<number, { readonly reason: string; readonly on: number }>;
}

function plan(scenario: Scenario): Plan {
  const selected = scenario.selected ?? scenario.issues.map((i) => i.number);
  const input: PlanInput = {
    graph: buildDependencyGraph(scenario.issues, { selected, repo: "acme/app" }),
    issues: scenario.issues,
    selected,
    featureBranch: "feature/login",
    maxParallel: scenario.maxParallel ?? 100,
    launched: new Set(scenario.launched ?? []),
    merged: new Set(scenario.merged ?? []),
    externalStates: new Map(Object.entries(scenario.external ?? {})),
    ...(scenario.held === undefined ? {} : { held: scenario.held }),
  };
  return planRound(input);
}

/** One line per issue, `#12 launch issue-10` or `#14 wait 12,slot`, easy to read in a table. */
function summary(result: Plan): string[] {
  return result.issues.map(({ number, action, base, waitingOn }) =>
    [`#${number}`, action, base ?? "", waitingOn.join(",")].filter((part) => part !== "").join(" "),
  );
}

describe("planRound: the design.md §4 table", () => {
  it.each<[string, Scenario, string[]]>([
    ["no dependencies → feature branch, launch now", { issues: issuesFrom({ 10: [] }) }, ["#10 launch feature/login"]],
    [
      "all dependencies merged → feature branch, launch now",
      { issues: issuesFrom({ 1: [], 2: [], 10: [1, 2] }, [1]), selected: [10], merged: [2] },
      ["#10 launch feature/login"],
    ],
    [
      "exactly one unmerged dependency, running → stacked on it",
      { issues: issuesFrom({ 1: [], 2: [], 10: [1, 2] }, [1]), selected: [10], launched: [2] },
      ["#10 launch issue-2"],
    ],
    [
      "exactly one unmerged dependency, not running → wait on it",
      { issues: issuesFrom({ 1: [], 10: [1] }), selected: [10] },
      ["#10 wait 1"],
    ],
    [
      "several unmerged dependencies → wait on all of them",
      { issues: issuesFrom({ 3: [], 1: [], 10: [3, 1] }), selected: [10], launched: [1, 3] },
      ["#10 wait 1,3"],
    ],
  ])("%s", (_, scenario, expected) => {
    expect(summary(plan(scenario))).toEqual(expected);
  });
});

describe("planRound: rounds and chains", () => {
  it("starts only the first link of a chain: a branch launched this round holds no verified work to stack on", () => {
    expect(summary(plan({ issues: issuesFrom({ 10: [], 12: [10], 14: [12] }) }))).toEqual([
      "#10 launch feature/login",
      "#12 wait 10",
      "#14 wait 12",
    ]);
  });

  it("gives a chain numbered in reverse the same shape", () => {
    expect(summary(plan({ issues: issuesFrom({ 10: [12], 12: [14], 14: [] }) }))).toEqual([
      "#10 wait 12",
      "#12 wait 14",
      "#14 launch feature/login",
    ]);
  });

  it("stacks the second link the round after the first launched, on its branch", () => {
    expect(summary(plan({ issues: issuesFrom({ 10: [], 12: [10], 14: [12] }), launched: [10] }))).toEqual([
      "#10 running",
      "#12 launch issue-10",
      "#14 wait 12",
    ]);
  });

  it("stacks on an issue already running, and waits behind one stacked this round", () => {
    expect(summary(plan({ issues: issuesFrom({ 10: [], 12: [10], 14: [12], 16: [14] }), launched: [10] }))).toEqual([
      "#10 running",
      "#12 launch issue-10",
      "#14 wait 12",
      "#16 wait 14",
    ]);
  });

  it("treats closed dependencies as merged and running ones as bases", () => {
    const issues = issuesFrom({ 1: [], 2: [], 3: [1], 4: [1, 2] }, [1]);
    expect(summary(plan({ issues, launched: [2] }))).toEqual([
      "#1 merged",
      "#2 running",
      "#3 launch feature/login",
      "#4 launch issue-2",
    ]);
  });

  it("reports dependency states after this round's launches", () => {
    const issues = [...issuesFrom({ 1: [], 2: [], 3: [], 4: [] }, [2]), issue(9, { deps: [1, 2, 3, 4], externalDeps: ["o/r#7", "o/r#8", "o/r#5"] })];
    const result = plan({ issues, selected: [1, 9], merged: [3], external: { "o/r#7": "closed", "o/r#8": "open" } });
    expect(result.issues.find((i) => i.number === 9)?.dependencies).toEqual([
      { ref: "#1", number: 1, repo: null, state: "launched" },
      { ref: "#2", number: 2, repo: null, state: "closed" },
      { ref: "#3", number: 3, repo: null, state: "merged" },
      { ref: "#4", number: 4, repo: null, state: "open" },
      { ref: "o/r#7", number: 7, repo: "o/r", state: "closed" },
      { ref: "o/r#8", number: 8, repo: "o/r", state: "open" },
      { ref: "o/r#5", number: 5, repo: "o/r", state: "unknown" },
    ]);
  });
});

describe("planRound: slots", () => {
  const five = issuesFrom({ 1: [], 2: [], 3: [], 4: [], 5: [] });

  it("gives free slots in issue order; the rest wait for a slot", () => {
    expect(summary(plan({ issues: five, maxParallel: 2 }))).toEqual([
      "#1 launch feature/login",
      "#2 launch feature/login",
      "#3 wait slot",
      "#4 wait slot",
      "#5 wait slot",
    ]);
  });

  it("counts running issues, selected or not, against maxParallel", () => {
    expect(summary(plan({ issues: five, selected: [1, 2, 3], launched: [4, 5], maxParallel: 3 }))).toEqual([
      "#1 launch feature/login",
      "#2 wait slot",
      "#3 wait slot",
    ]);
  });

  it("does not count running issues that are merged", () => {
    expect(summary(plan({ issues: five, selected: [1], launched: [4, 5], merged: [4, 5], maxParallel: 1 }))).toEqual([
      "#1 launch feature/login",
    ]);
  });

  it("lets nothing launch when running issues fill every slot", () => {
    expect(summary(plan({ issues: five, selected: [1, 2], launched: [3, 4, 5], maxParallel: 2 }))).toEqual([
      "#1 wait slot",
      "#2 wait slot",
    ]);
  });

  it("gives a slot to an issue stacked on a running one before higher numbers", () => {
    const issues = issuesFrom({ 10: [], 11: [10], 12: [] });
    expect(summary(plan({ issues, launched: [10], maxParallel: 2 }))).toEqual(["#10 running", "#11 launch issue-10", "#12 wait slot"]);
  });

  it("spends no slot on an issue whose dependency launches only this round: it waits on the dependency", () => {
    const issues = issuesFrom({ 1: [3], 2: [], 3: [] });
    expect(summary(plan({ issues, maxParallel: 2 }))).toEqual(["#1 wait 3", "#2 launch feature/login", "#3 launch feature/login"]);
  });

  it("makes an issue whose only dependency waits for a slot wait on that dependency", () => {
    expect(summary(plan({ issues: issuesFrom({ 1: [], 2: [], 3: [2] }), maxParallel: 1 }))).toEqual([
      "#1 launch feature/login",
      "#2 wait slot",
      "#3 wait 2",
    ]);
  });

  it("rejects maxParallel below 1", () => {
    expect(() => plan({ issues: five, maxParallel: 0 })).toThrow(UserError);
    expect(() => plan({ issues: five, maxParallel: 0 })).toThrow("maxParallel must be a whole number of at least 1; received 0");
  });
});

describe("planRound: external dependencies", () => {
  const issues = [issue(1, { externalDeps: ["other/lib#4"] }), issue(2, { deps: [1] })];

  it.each<[string, Scenario["external"], string[]]>([
    ["known closed counts as merged", { "other/lib#4": "closed" }, ["#1 launch feature/login", "#2 wait 1"]],
    ["open means wait", { "other/lib#4": "open" }, ["#1 wait other/lib#4", "#2 wait 1"]],
    ["unknown means wait", {}, ["#1 wait other/lib#4", "#2 wait 1"]],
  ])("%s", (_, external, expected) => {
    expect(summary(plan({ issues, external }))).toEqual(expected);
  });

  it("is never a base: one external plus nothing else still waits", () => {
    const result = plan({ issues: [issue(5, { externalDeps: ["x/y#1"] })], external: { "x/y#1": "open" } });
    expect(result.issues[0]).toMatchObject({ action: "wait", base: null, waitingOn: ["x/y#1"] });
  });

  it("lists internal then external references when waiting on several", () => {
    const result = plan({ issues: [issue(1), issue(5, { deps: [1], externalDeps: ["x/y#9", "a/b#2"] })], selected: [5] });
    expect(result.issues[0]?.waitingOn).toEqual([1, "a/b#2", "x/y#9"]);
  });
});

describe("planRound: selection", () => {
  it("plans only the selected issues; an unselected open dependency is never launched", () => {
    const issues = issuesFrom({ 1: [], 2: [1], 3: [], 4: [3] });
    expect(summary(plan({ issues, selected: [4, 2] }))).toEqual(["#2 wait 1", "#4 wait 3"]);
  });

  it("stacks on an unselected dependency that is running", () => {
    expect(summary(plan({ issues: issuesFrom({ 1: [], 2: [1] }), selected: [2], launched: [1] }))).toEqual(["#2 launch issue-1"]);
  });

  it("returns titles, the feature branch and selected issues in number order", () => {
    const result = plan({ issues: [issue(7, { title: "Login form" }), issue(3, { title: "API" })] });
    expect(result.featureBranch).toBe("feature/login");
    expect(result.issues.map((i) => [i.number, i.title])).toEqual([[3, "API"], [7, "Login form"]]);
  });
});

describe("planRound: scale", () => {
  it("plans 10,000 issues, including a chain numbered in reverse (speed: bench/plan)", () => {
    const deps: Record<number, number[]> = {};
    for (let n = 1; n <= 5_000; n++) deps[n] = n < 5_000 ? [n + 1] : [];
    for (let n = 5_001; n <= 10_000; n++) deps[n] = [n - 1, Math.floor(n / 3)].filter((d) => d > 5_000);
    const issues = issuesFrom(deps);
    const selected = issues.map((i) => i.number);
    const graph = buildDependencyGraph(issues, { selected, repo: null });
    const input = { graph, issues, selected, featureBranch: "main", maxParallel: 20_000, launched: new Set<number>(), merged: new Set<number>(), externalStates: new Map() };
    const result = planRound(input);
    expect(result.issues.filter((i) => i.action === "launch").map((i) => i.number)).toEqual([5_000, 5_001]);
  });
});

describe("planRound during a run: the soft edge of a predicted conflict", () => {
  it("shows an issue the run holds as waiting on the issue it will conflict with, with the reason, and gives its slot away", () => {
    const reason = "held: will conflict with issue-10 in src/app.ts; starts once #10 merges";
    const result = plan({ issues: issuesFrom({ 10: [], 11: [], 12: [] }), launched: [10], maxParallel: 2, held: new Map([[11, { reason, on: 10 }]]) });
    expect(summary(result)).toEqual(["#10 running", "#11 wait 10", "#12 launch feature/login"]);
    expect(result.issues[1]).toMatchObject({ action: "wait", waitingOn: [10], held: reason });
    // An issue held for another reason first (a dependency) says that reason.
    const waiting = plan({ issues: issuesFrom({ 10: [], 11: [10] }), held: new Map([[11, { reason, on: 10 }]]) });
    expect(waiting.issues[1]).toEqual(expect.not.objectContaining({ held: reason }));
  });
});
