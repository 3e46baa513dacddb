import type { Command } from "commander";
import { action, examples } from "./action.ts";

export function registerRestart(program: Command): void {
  program
    .command("restart")
    .summary("stop the instance's supervisor and start exactly one new one, resuming the agent's session where it can")
    .description(
      "Stop the old supervisor (a shutdown request; if it does not go, its process is killed inside the container, SIGTERM " +
        "then SIGKILL), wait until it is gone, then start one new supervisor with the same agent, base and prompt. A preset " +
        "that can resume (claude, codex, …) continues its session and is told why it was restarted; others start over with " +
        "the original prompt plus the reason and a pointer to the work already in the workspace.",
    )
    .argument("<instance>", "instance name, like issue-12")
    .option("--reason <text>", "why, for the agent's first turn (default: restarted by the user)")
    .addHelpText("after", examples('cspace restart issue-12 --reason "stuck on a prompt"', "cspace restart issue-12 --json") + "\nExit codes: 0 restarted, 2 no agent was ever started there, 3 its container is not running, or Docker, the worker's host or the supervisor unavailable.\n")
    .action(
      action(async (ctx, instance: string, flags: { reason?: string }) => {
        const { restartAgent } = await import("../../services/workers/restart.ts");
        const result = await restartAgent({ cwd: ctx.globals.cwd, env: ctx.env, instance, reason: flags.reason });
        if (ctx.globals.json) {
          ctx.out.data(result);
          return 0;
        }
        const old = result.stopped === "not-running" ? "no supervisor was running" : result.stopped === "shutdown" ? "the old supervisor shut down" : `the old supervisor was killed (${result.stopped})`;
        const how = result.resumedSession === null ? "starting over with its original prompt and the reason" : `resuming session ${result.resumedSession}`;
        ctx.out.line(`${instance}: ${old}; new supervisor pid ${String(result.status.pid)}, ${result.preset} agent ${result.status.state}, ${how}`);
        return 0;
      }),
    );
}
