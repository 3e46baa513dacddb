import { Option, type Command } from "commander";
import { UserError } from "../../core/errors.ts";
import type { Plan } from "../../core/plan/planner.ts";
import type { Output } from "../output.ts";
import { action, examples } from "./action.ts";

interface PlanFlags {
  readonly label?: string;
  readonly milestone?: string;
  readonly featureBranch?: string;
  readonly repo?: string;
  readonly format: "table" | "json" | "mermaid";
  readonly parent?: string;
}

export function registerPlan(program: Command): void {
  program
    .command("plan")
    .summary("show which issues would launch now, on which base branch, and which wait for what")
    .description(
      "Plan the next round without side effects: for each selected issue, its dependencies, the base branch it " +
        "would start on, and whether it launches now or waits (for a dependency or a free slot). " +
        "With no issue numbers, every open issue is planned. While a coordinator run that has not ended merges into " +
        "the same feature branch, the plan starts from what it launched and merged, and shows the issues it holds " +
        "back because they will conflict with a branch merging before them.",
    )
    .argument("[issues...]", "issue numbers, like 10 or #10")
    .option("--label <label>", "only issues carrying this label")
    .option("--milestone <milestone>", "only issues in this milestone (the feature branch becomes feature/<milestone>)")
    .option("--feature-branch <branch>", "the branch finished work merges into")
    .option("--repo <owner/name>", "read issues from this GitHub repository for this run (GITHUB_API_URL or forge.apiUrl points elsewhere)")
    .addOption(new Option("--format <format>", "output format").choices(["table", "json", "mermaid"]).default("table"))
    .option("--parent <issue>", "plan the sub-issues of this issue (and any issues named beside it), as cspace coordinate --parent takes them")
    .addHelpText(
      "after",
      examples("cspace plan", "cspace plan 10 11 12 13", "cspace plan --repo octocat/hello-world 4 5", "cspace plan --milestone 'Login v2' --format mermaid", "cspace plan --json | jq '.issues[] | select(.action == \"launch\")'"),
    )
    .action(
      action(async (ctx, issues: string[], flags: PlanFlags) => {
        const { planIssues } = await import("../../services/plan.ts");
        const result = await planIssues({
          cwd: ctx.globals.cwd,
          env: ctx.env,
          numbers: issues.map(parseIssueNumber),
          label: flags.label,
          milestone: flags.milestone,
          featureBranch: flags.featureBranch,
          repo: flags.repo,
          parent: flags.parent === undefined ? undefined : parseIssueNumber(flags.parent),
        });
        for (const warning of result.warnings) ctx.out.warn(warning);
        await print(result.plan, ctx.globals.json ? "json" : flags.format, ctx.out);
        return 0;
      }),
    );
}

/** Renderers are loaded for the format asked for only: `cspace --help` needs none. */
async function print(plan: Plan, format: PlanFlags["format"], out: Output): Promise<void> {
  switch (format) {
    case "json":
      out.data(plan);
      return;
    case "mermaid": {
      const { renderPlanMermaid } = await import("../../ui/plan-mermaid.ts");
      for (const line of renderPlanMermaid(plan)) out.line(line);
      return;
    }
    case "table": {
      const { renderPlanTable } = await import("../../ui/plan-table.ts");
      for (const line of renderPlanTable(plan, out.tone)) out.line(line);
      return;
    }
  }
}

function parseIssueNumber(text: string): number {
  const match = /^#?([1-9][0-9]{0,8})$/.exec(text.trim());
  if (match?.[1] === undefined) {
    throw new UserError(`"${text}" is not an issue number`, { hint: "Give issue numbers like 12 or #12." });
  }
  return Number(match[1]);
}
