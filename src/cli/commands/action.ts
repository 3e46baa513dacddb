import type { Command } from "commander";
import { closeOpenConnections } from "../../services/open-connections.ts";
import { contextFor, type CommandContext } from "../context.ts";

/**
 * A command action returns its exit code (0, or 1 when it finished with
 * failures); errors are thrown and mapped to exit codes in ./main.ts.
 */
export type CommandAction<Args extends unknown[]> = (
  context: CommandContext,
  ...args: Args
) => Promise<number>;

/**
 * Adapts a typed action to commander: builds the context, records the exit
 * code, and closes the host connections the command opened (an open SSH
 * connection would keep the process alive), however it ended.
 */
export function action<Args extends unknown[]>(
  handler: CommandAction<Args>,
): (...args: [...Args, Command]) => Promise<void> {
  return async (...args) => {
    const command = args[args.length - 1] as Command;
    try {
      const code = await handler(contextFor(command), ...(args.slice(0, -1) as Args));
      process.exitCode = code;
    } finally {
      await closeOpenConnections();
    }
  };
}

/** Formats a help footer with examples, shown under every command's --help. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join("\n")}\n`;
}
