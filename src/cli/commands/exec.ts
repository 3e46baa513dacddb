import type { Command } from "commander";
import { action, examples } from "./action.ts";

export function registerExec(program: Command): void {
  program
    .command("exec")
    .summary("run a command in an instance's workspace folder as its user (a shell with no command)")
    .description("Run a command in the instance's container, in workspaceFolder, as remoteUser with remoteEnv. Its exit code is cspace's.")
    .argument("<instance>", "instance name")
    .argument("[command...]", "the command and its arguments (after --)")
    .addHelpText("after", examples("cspace exec issue-10 -- git status", "cspace exec issue-10"))
    .action(
      action(async (ctx, instance: string, command: string[]) => {
        const { execInInstance } = await import("../../services/instances/exec.ts");
        const tty = process.stdin.isTTY && command.length === 0;
        return execInInstance({
          cwd: ctx.globals.cwd,
          env: ctx.env,
          instance,
          command,
          terminal: {
            stdin: process.stdin,
            stdout: process.stdout,
            stderr: process.stderr,
            tty,
            columns: process.stdout.columns,
            rows: process.stdout.rows,
            setRawMode: tty ? (raw) => process.stdin.setRawMode(raw) : undefined,
          },
        });
      }),
    );
}
