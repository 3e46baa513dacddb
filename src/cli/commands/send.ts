import type { Command } from "commander";
import { action, examples } from "./action.ts";
import { printSent, readStdin } from "./send-output.ts";

export function registerSend(program: Command): void {
  program
    .command("send")
    .summary("send a running agent a message: a new user turn (- reads it from stdin)")
    .description(
      "Queue a message for the instance's agent on its supervisor's socket. It is delivered in order as the agent can take " +
        "it: a new user turn between turns for session-keeping agents, or a new invocation after the current one. Returns " +
        "once it is queued. Workers message the coordinator with `cspace send _coordinator …` inside their container; " +
        "on the host there is no coordinator yet.",
    )
    .argument("<instance>", "instance name, like issue-12")
    .argument("<text>", 'the message, or "-" to read it from stdin')
    .addHelpText(
      "after",
      examples('cspace send issue-12 "Rebase onto the latest feature/login."', "echo 'long message' | cspace send issue-12 -", 'cspace send issue-12 "also update the changelog" --json') +
        "\nExit codes: 0 queued, 2 empty message or bad instance name, 3 no such instance or no supervisor running (start one with cspace up).\n",
    )
    .action(
      action(async (ctx, instance: string, text: string) => {
        const { sendMessage } = await import("../../services/workers/send.ts");
        const message = text === "-" ? await readStdin() : text;
        printSent(ctx.out, await sendMessage({ cwd: ctx.globals.cwd, env: ctx.env, instance, text: message }));
        return 0;
      }),
    );
}
