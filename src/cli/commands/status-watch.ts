import { UserError } from "../../core/errors.ts";
import type { WatchFrame } from "../../services/coordinate/watch-types.ts";
import type { CommandContext } from "../context.ts";
import { showDashboard, wantsDashboard } from "./dashboard.ts";

/**
 * `cspace status --watch [--run <id>]`: the run's dashboard from any terminal,
 * following its event log until the run ends; NDJSON frames with --json, a
 * timestamped line per change without a terminal. Leaving the view (q, Ctrl-C)
 * never stops the run: this process only reads.
 */
export async function watchStatus(ctx: CommandContext, runId: string | undefined): Promise<number> {
  if (wantsDashboard(ctx, false)) {
    const outcome = await showDashboard(ctx, { runId, canDetach: true });
    switch (outcome.kind) {
      case "detached":
      case "interrupted":
      case "stopped":
        ctx.out.info("Left the view: the run goes on (cspace status --watch shows it again).");
        return 0;
      case "failed":
        throw outcome.error;
      case "ended":
        if (outcome.frame === null) {
          ctx.out.line("No coordinator run yet: cspace coordinate <issues…> starts one.");
          return 0;
        }
        if (runId === undefined) await printReport(ctx);
        return 0;
    }
  }
  const [{ watchRun }, plain] = await Promise.all([import("../../services/coordinate/watch-run.ts"), import("../../ui/dashboard/plain.ts")]);
  const stop = new AbortController();
  let last: WatchFrame | null = null;
  for await (const frame of watchRun({ cwd: ctx.globals.cwd, env: ctx.env, runId, signal: stop.signal })) {
    if (ctx.globals.json) process.stdout.write(`${plain.frameJson(frame)}\n`);
    else for (const line of plain.changeLines(last, frame, new Date().toISOString().slice(11, 19))) ctx.out.line(line);
    last = frame;
  }
  if (last === null) {
    if (runId !== undefined) throw new UserError(`there is no run ${runId} in this project`, { hint: "cspace status shows the latest run" });
    if (!ctx.globals.json) ctx.out.line("No coordinator run yet: cspace coordinate <issues…> starts one.");
    return 0;
  }
  if (!ctx.globals.json) ctx.out.line(plain.endedLine(last));
  return 0;
}

async function printReport(ctx: CommandContext): Promise<void> {
  const [{ runStatus }, { renderRunReport }] = await Promise.all([import("../../services/coordinate/run-status.ts"), import("../../ui/coordinate-report.ts")]);
  const run = await runStatus({ cwd: ctx.globals.cwd, env: ctx.env });
  if (run.report !== null) for (const line of renderRunReport(run.report, ctx.out.tone)) ctx.out.line(line);
}
