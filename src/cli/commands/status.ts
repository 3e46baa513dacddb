import type { Command } from "commander";
import { UserError } from "../../core/errors.ts";
import { action, examples } from "./action.ts";

export function registerStatus(program: Command): void {
  program
    .command("status")
    .summary("the coordinator's run (no argument), or an instance's agent: state, turns, cost, session, last activity")
    .description(
      "Without an instance: the latest coordinator run's table from its event log, from any terminal, while it runs or after. " +
        "With one: ask the instance's supervisor for its status. When it does not answer, say what the host can conclude: the agent " +
        "exited (state.json says so), lost (it had not exited; the container is gone or stopped, or the supervisor died), " +
        "or none (no agent ever ran there).",
    )
    .argument("[instance]", "instance name, like issue-12 (default: the run's table)")
    .option("--watch", "follow the run until it ends: the live dashboard on a terminal (q leaves it, the run goes on), a line per change otherwise, a JSON frame per change with --json")
    .option("--run <id>", "with --watch: follow this run rather than the latest")
    .addHelpText("after", examples("cspace status", "cspace status --watch", "cspace status --watch --json", "cspace status issue-12", "cspace status issue-12 --json") + "\nExit codes: 0 answered (whatever the state), 2 no such instance, 3 Docker unavailable when the supervisor does not answer, or the worker's host does not answer.\n")
    .action(
      action(async (ctx, instance: string | undefined, flags: { watch?: boolean; run?: string }) => {
        if (flags.watch === true || flags.run !== undefined) {
          if (instance !== undefined) throw new UserError("--watch follows the coordinator's run, not an instance", { hint: `cspace status --watch, or cspace logs ${instance} --follow` });
          if (flags.watch !== true) throw new UserError("--run goes with --watch", { hint: `cspace status --watch --run ${flags.run ?? "<id>"}` });
          const { watchStatus } = await import("./status-watch.ts");
          return watchStatus(ctx, flags.run);
        }
        if (instance === undefined) {
          const [{ runStatus }, { renderRunReport }] = await Promise.all([import("../../services/coordinate/run-status.ts"), import("../../ui/coordinate-report.ts")]);
          const run = await runStatus({ cwd: ctx.globals.cwd, env: ctx.env });
          if (ctx.globals.json) {
            ctx.out.data(run);
            return 0;
          }
          if (run.report === null) {
            ctx.out.line("No coordinator run yet: cspace coordinate <issues…> starts one.");
            return 0;
          }
          const holder = run.holder === null ? null : `pid ${String(run.holder.pid)} on ${run.holder.host} since ${run.holder.startedAt}`;
          for (const line of renderRunReport(run.report, ctx.out.tone, holder)) ctx.out.line(line);
          return 0;
        }
        const [{ instanceStatus }, { statusLines }] = await Promise.all([import("../../services/workers/status.ts"), import("../../ui/worker-status.ts")]);
        const result = await instanceStatus({ cwd: ctx.globals.cwd, env: ctx.env, instance });
        if (ctx.globals.json) {
          ctx.out.data(result);
          return 0;
        }
        const details = { branch: result.status?.branch ?? null, headSha: result.status?.headSha ?? null, pid: result.live ? (result.status?.pid ?? null) : null };
        for (const line of statusLines(result.instance, result.agent, details, ctx.out.tone)) ctx.out.line(line);
        return 0;
      }),
    );
}
