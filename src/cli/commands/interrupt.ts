import type { Command } from "commander";
import { action, examples } from "./action.ts";

export function registerInterrupt(program: Command): void {
  program
    .command("interrupt")
    .summary("stop the agent's current run (its report is written); the supervisor stays")
    .description(
      "Ask the instance's supervisor to stop the agent: SIGINT, then SIGTERM and SIGKILL as it escalates. Returns once the " +
        "agent exited and its report (outcome interrupted) is written. Queued messages stay queued; `cspace send` starts the " +
        "agent again. Interrupting an agent that is not running does nothing and is not an error.",
    )
    .argument("<instance>", "instance name, like issue-12")
    .addHelpText("after", examples("cspace interrupt issue-12", "cspace interrupt issue-12 --json") + "\nExit codes: 0 interrupted (or nothing was running), 2 bad instance name, 3 no supervisor answers, or the worker's host does not answer.\n")
    .action(
      action(async (ctx, instance: string) => {
        const { interruptAgent } = await import("../../services/workers/interrupt.ts");
        const result = await interruptAgent({ cwd: ctx.globals.cwd, env: ctx.env, instance });
        if (ctx.globals.json) ctx.out.data(result);
        else if (result.interrupted) ctx.out.line(`${instance}: interrupted (report ${result.reportId ?? "?"}, outcome ${result.outcome ?? "?"})`);
        else ctx.out.line(`${instance}: nothing to interrupt (${result.note ?? "the agent is not running"})`);
        return 0;
      }),
    );
}
