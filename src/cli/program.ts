import { Command, Option } from "commander";
import { examples } from "./commands/action.ts";
import { registerCoordinate } from "./commands/coordinate.ts";
import { registerDemo } from "./commands/demo.ts";
import { registerDoctor } from "./commands/doctor.ts";
import { registerDown } from "./commands/down.ts";
import { registerExec } from "./commands/exec.ts";
import { registerInit } from "./commands/init.ts";
import { registerInterrupt } from "./commands/interrupt.ts";
import { registerIssue } from "./commands/issue.ts";
import { registerList } from "./commands/list.ts";
import { registerLogs } from "./commands/logs.ts";
import { registerPlan } from "./commands/plan.ts";
import { registerReport } from "./commands/report.ts";
import { registerRestart } from "./commands/restart.ts";
import { registerSend } from "./commands/send.ts";
import { registerStatus } from "./commands/status.ts";
import { registerUp } from "./commands/up.ts";
import { registerWarm } from "./commands/warm.ts";
import { packageVersion } from "./version.ts";

// Command modules import their services and renderers lazily (inside the
// action), so `cspace --help` loads commander and the command definitions
// only, and `cspace list` or `cspace plan` never load dockerode or octokit.
// `action` and `examples` live in ./commands/action.ts so the commands do not
// import this module back.

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
  registerUp(program);
  registerIssue(program);
  registerSend(program);
  registerLogs(program);
  registerCoordinate(program);
  registerDemo(program);
  registerStatus(program);
  registerInterrupt(program);
  registerRestart(program);
  registerReport(program);
  return program;
}
