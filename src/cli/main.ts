import { CommanderError } from "commander";
import { ExitCode } from "../core/errors.ts";
import { Output } from "./output.ts";
import { reportError } from "./report-error.ts";
import { buildProgram } from "./program.ts";

/**
 * The one place where failures become messages and exit codes. Commands throw
 * typed errors (src/core/errors.ts); usage errors come from commander.
 */
export async function main(argv: readonly string[]): Promise<void> {
  // `cspace plan | head -3` closes stdout early: that is the reader's choice, not a failure.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(typeof process.exitCode === "number" ? process.exitCode : 0);
    throw error;
  });
  process.exitCode = await run(argv);
}

export async function run(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  // What follows "--" belongs to the command `exec` runs, not to cspace.
  const end = argv.indexOf("--");
  const json = (end === -1 ? argv : argv.slice(0, end)).includes("--json");
  const out = new Output({ json });
  // Commander writes its usage errors ("error: …") to stderr itself; report() adds the JSON.
  program.exitOverride();
  for (const command of program.commands) command.exitOverride();

  try {
    process.exitCode = undefined;
    if (argv.length === 0) {
      program.outputHelp();
      return ExitCode.ok;
    }
    await program.parseAsync([...argv], { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : ExitCode.ok;
  } catch (error) {
    return report(error, out);
  }
}

function report(error: unknown, out: Output): number {
  if (error instanceof CommanderError) {
    const benign = ["commander.helpDisplayed", "commander.version", "commander.help"];
    if (benign.includes(error.code)) return ExitCode.ok;
    if (out.json) out.data({ error: { kind: "user", ...usageError(error.message) } });
    return ExitCode.userError;
  }
  return reportError(error, out);
}

/**
 * Commander's message is "error: <what>", optionally followed by a line
 * "(Did you mean …?)"; a script wants the two apart, without the prefix.
 */
function usageError(text: string): { message: string; hint: string } {
  const [first = "", ...rest] = text.trim().split("\n");
  const suggestion = /^\((.*)\)$/.exec(rest.join(" ").trim())?.[1];
  return { message: first.replace(/^error: /, ""), hint: suggestion ?? "run with --help for usage" };
}
