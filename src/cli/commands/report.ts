import type { Command } from "commander";
import { action, examples } from "./action.ts";

interface ReportFlags {
  readonly run?: string;
}

export function registerReport(program: Command): void {
  program
    .command("report")
    .summary("a coordinator run's report again: the table, where each issue's time went, and the after-action review")
    .description(
      "Made again from the run's event log (the latest run, or --run <id>): each issue's pull request, status, attempts, turns, cost and " +
        "wall time; where its time went (working, waiting on dependencies, for a slot, starting, parked, verifying, waiting to merge); and " +
        "the after-action review: the critical path that set the finish time, what went wrong, and what would have helped, computed from the log. " +
        "The same text is in the run directory's report.md, written when the run ended.",
    )
    .option("--run <id>", "the run's id (default: the latest run); an unknown id lists the recent ones")
    .addHelpText("after", examples("cspace report", "cspace report --run 20260501T100000Z-1a2b", "cspace report --json") + "\nExit codes: 0 shown (whatever the run's outcome), 2 no such run.\n")
    .action(
      action(async (ctx, flags: ReportFlags) => {
        const [{ loadRunReport }, { renderRunReport, renderReview }] = await Promise.all([import("../../services/coordinate/run-report.ts"), import("../../ui/coordinate-report.ts")]);
        const result = await loadRunReport({ cwd: ctx.globals.cwd, env: ctx.env, runId: flags.run });
        if (ctx.globals.json) {
          ctx.out.data(result.report);
          return 0;
        }
        if (result.report === null) {
          ctx.out.line("No coordinator run yet: cspace coordinate <issues…> starts one.");
          return 0;
        }
        for (const line of [...renderRunReport(result.report, ctx.out.tone), ...renderReview(result.report, ctx.out.tone)]) ctx.out.line(line);
        return 0;
      }),
    );
}
