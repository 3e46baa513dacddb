import type { Command } from "commander";
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
    .addHelpText("after", examples("cspace status", "cspace status issue-12", "cspace status issue-12 --json") + "\nExit codes: 0 answered (whatever the state), 2 no such instance, 3 Docker unavailable when the supervisor does not answer.\n")
    .action(
      action(async (ctx, instance: string | undefined) => {
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
