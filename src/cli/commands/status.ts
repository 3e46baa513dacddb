import type { Command } from "commander";
import { action, examples } from "./action.ts";

export function registerStatus(program: Command): void {
  program
    .command("status")
    .summary("an instance's agent: state, turns, cost, session, last activity (lost when its supervisor is gone)")
    .description(
      "Ask the instance's supervisor for its status. When it does not answer, say what the host can conclude: the agent " +
        "exited (state.json says so), lost (it had not exited; the container is gone or stopped, or the supervisor died), " +
        "or none (no agent ever ran there).",
    )
    .argument("<instance>", "instance name, like issue-12")
    .addHelpText("after", examples("cspace status issue-12", "cspace status issue-12 --json") + "\nExit codes: 0 answered (whatever the state), 2 no such instance, 3 Docker unavailable when the supervisor does not answer.\n")
    .action(
      action(async (ctx, instance: string) => {
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
