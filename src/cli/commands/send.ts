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
        "once it is queued. `_coordinator` is the project's running coordinator: on the host it takes pause [N], resume [N], " +
        "skip N [why], retry N and reset N (start N over from its base, its branch discarded) and answers with what it did; inside a worker's container, whatever the worker says is recorded in the run's log.",
    )
    .argument("<instance>", "instance name, like issue-12")
    .argument("<text>", 'the message, or "-" to read it from stdin')
    .addHelpText(
      "after",
      examples('cspace send issue-12 "Rebase onto the latest feature/login."', "echo 'long message' | cspace send issue-12 -", 'cspace send issue-12 "also update the changelog" --json', 'cspace send _coordinator "pause"', 'cspace send _coordinator "skip 12 waiting on the API design"') +
        "\nExit codes: 0 queued (or done, for _coordinator), 2 empty message, bad instance name or a command the coordinator refuses, 3 no such instance, no supervisor, no coordinator running, or the worker's host does not answer.\n",
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
