import type { Plan } from "../core/plan/planner.ts";
import { describeAction } from "./plan-table.ts";

/**
 * The dependency graph as a Mermaid `graph TD` diagram (GitHub renders these
 * in issues and pull requests). Edges point from a dependency to what it
 * unblocks; each selected issue shows its base branch and action.
 */
export function renderPlanMermaid(plan: Plan): string[] {
  const lines = ["graph TD"];
  const selected = new Set(plan.issues.map((issue) => issue.number));
  const others = new Map<string, string>();

  for (const issue of plan.issues) {
    const detail = issue.base === null ? describeAction(issue) : `${describeAction(issue)} on ${issue.base}`;
    lines.push(`  ${nodeId(issue.number)}["#${issue.number} ${escape(issue.title)}<br/>${escape(detail)}"]:::${issue.action}`);
  }
  for (const issue of plan.issues) {
    for (const dependency of issue.dependencies) {
      const id = dependency.repo === null ? nodeId(dependency.number) : externalId(dependency.ref);
      if (dependency.repo !== null || !selected.has(dependency.number)) {
        others.set(id, `${dependency.ref} (${dependency.state})`);
      }
      lines.push(`  ${id} --> ${nodeId(issue.number)}`);
    }
  }
  for (const [id, label] of [...others].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  ${id}["${escape(label)}"]:::outside`);
  }
  lines.push(
    "  classDef launch fill:#d4f7d4,stroke:#2b8a3e",
    "  classDef wait fill:#fff3bf,stroke:#e67700",
    "  classDef running fill:#d0ebff,stroke:#1c7ed6",
    "  classDef merged fill:#e9ecef,stroke:#868e96",
    "  classDef outside fill:#ffffff,stroke:#adb5bd,stroke-dasharray: 4 3",
  );
  return lines;
}

function nodeId(number: number): string {
  return `i${number}`;
}

function externalId(ref: string): string {
  return `x_${ref.replace(/[^A-Za-z0-9]/g, "_")}`;
}

/** Mermaid labels are quoted strings: quotes and angle brackets become entities. */
function escape(text: string): string {
  return text.replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;");
}
