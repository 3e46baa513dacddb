import type { Plan, PlannedIssue } from "../core/plan/planner.ts";
import type { Paint } from "./tone.ts";

const TITLE_WIDTH = 48;

/** The plan as a table for people: one row per issue, what it waits on spelled out. */
export function renderPlanTable(plan: Plan, paint: Paint): string[] {
  if (plan.issues.length === 0) {
    return [`Feature branch: ${plan.featureBranch}`, "", "No issues selected: nothing to plan."];
  }
  const header = ["#", "Title", "Depends on", "Base", "Action"];
  const rows = plan.issues.map((issue) => [
    `#${issue.number}`,
    truncate(issue.title, TITLE_WIDTH),
    issue.dependencies.length === 0 ? "-" : issue.dependencies.map((d) => d.ref).join(", "),
    issue.base ?? "-",
    describeAction(issue),
  ]);
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? "").length)));
  const format = (cells: readonly string[]): string =>
    cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join("  ");

  const launching = plan.issues.filter((issue) => issue.action === "launch").length;
  const waiting = plan.issues.filter((issue) => issue.action === "wait").length;
  return [
    `Feature branch: ${plan.featureBranch}`,
    "",
    paint("heading", format(header)),
    ...rows.map((row, index) => {
      const issue = plan.issues[index];
      const line = format(row);
      if (issue === undefined) return line;
      if (issue.action === "launch") return paint("good", line);
      if (issue.action === "wait") return paint("warn", line);
      return paint("muted", line);
    }),
    "",
    `${launching} to launch, ${waiting} waiting, ${plan.issues.length - launching - waiting} running or merged.`,
  ];
}

export function describeAction(issue: PlannedIssue): string {
  switch (issue.action) {
    case "launch":
      return issue.base !== null && issue.base.startsWith("issue-") ? "launch (stacked)" : "launch";
    case "wait":
      if (issue.held !== undefined) return issue.held;
      return `wait for ${issue.waitingOn.map((w) => (typeof w === "number" ? `#${w}` : w === "slot" ? "a free slot" : w)).join(", ")}`;
    case "running":
      return "running";
    case "merged":
      return "merged";
  }
}

function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}
