import { Command, Option } from "commander";
import { registerDoctor } from "./commands/doctor.ts";
import { registerDown } from "./commands/down.ts";
import { registerExec } from "./commands/exec.ts";
import { registerInit } from "./commands/init.ts";
import { registerList } from "./commands/list.ts";
import { registerPlan } from "./commands/plan.ts";
import { registerWarm } from "./commands/warm.ts";
import { contextFor, type CommandContext } from "./context.ts";
import { packageVersion } from "./version.ts";

// Command modules import their services lazily (inside the action), so
// `cspace --help` or `cspace plan` never loads dockerode or octokit.

/**
 * A command action returns its exit code (0, or 1 when it finished with
 * failures); errors are thrown and mapped to exit codes in ./main.ts.
 */
export type CommandAction<Args extends unknown[]> = (
  context: CommandContext,
  ...args: Args
) => Promise<number>;

/** Adapts a typed action to commander: builds the context, records the exit code. */
export function action<Args extends unknown[]>(
  handler: CommandAction<Args>,
): (...args: [...Args, Command]) => Promise<void> {
  return async (...args) => {
    const command = args[args.length - 1] as Command;
    const code = await handler(contextFor(command), ...(args.slice(0, -1) as Args));
    process.exitCode = code;
  };
}

/** Formats a help footer with examples, shown under every command's --help. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join("\n")}\n`;
}

export function buildProgram(): Command {
  const program = new Command("cspace")
    .description("Run one autonomous coding agent per issue, each in its own devcontainer, and coordinate them to merged code.")
    .version(packageVersion(), "-V, --version", "print the cspace version")
    .addOption(new Option("--json", "print results as JSON on stdout (logs stay on stderr)"))
    .addOption(new Option("--cwd <dir>", "run as if started in <dir> (the project directory or below it)"))
    .showHelpAfterError("(run with --help for usage)")
    .showSuggestionAfterError(true)
    .addHelpText(
      "after",
      examples("cspace init", "cspace doctor", "cspace plan --format mermaid", "cspace plan 10 11 12 --json") +
        "\nExit codes: 0 success, 1 finished with failures, 2 user error, 3 outside system unavailable, 4 internal error.\n",
    );

  registerInit(program);
  registerDoctor(program);
  registerPlan(program);
  registerWarm(program);
  registerList(program);
  registerExec(program);
  registerDown(program);
  return program;
}
