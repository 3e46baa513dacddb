import type { Command } from "commander";
import { UserError } from "../../core/errors.ts";
import type { DownResult } from "../../services/instances/down.ts";
import type { CommandContext } from "../context.ts";
import { action, examples } from "./action.ts";

export function registerDown(program: Command): void {
  program
    .command("down")
    .summary("remove instances: container, workspace checkout and instance directory (sockets, events, outbox)")
    .description(
      "Remove the named instances, or with --all every instance carrying this project's label (nothing of other projects). " +
        "--all keeps the project's object store, its coordinator event log and its run reports, so the next warm is fast and " +
        "cspace status still shows the last run. --all --purge removes those too: cspace's data directory for this project " +
        "(the object store every checkout borrows from, the event log of every run, locks, scratch space) and its run " +
        "directory's reports and files. Never the project's own checkout, its forge (the bare repository, issues, pull " +
        "requests) or any image. Refused while a coordinator runs the project.",
    )
    .argument("[instances...]", "instance names")
    .option("--all", "every instance of this project")
    .option("--purge", "with --all: also remove the project's object store, event log and run reports")
    .addHelpText("after", examples("cspace down issue-11", "cspace down --all", "cspace down --all --purge"))
    .action(
      action(async (ctx, instances: string[], flags: { all?: boolean; purge?: boolean }) => {
        const { downAndPurge, downInstances } = await import("../../services/instances/down.ts");
        if (flags.purge === true) {
          if (flags.all !== true || instances.length > 0) throw new UserError("--purge removes the whole project's data: it goes with --all, not with instance names", { hint: "cspace down --all --purge" });
          const result = await downAndPurge({ cwd: ctx.globals.cwd, env: ctx.env });
          if (ctx.globals.json) {
            ctx.out.data(result);
            return 0;
          }
          printRemoved(ctx, result.instances);
          if (result.purged.length === 0) ctx.out.line("no data or logs of this project to remove");
          for (const removed of result.purged) ctx.out.line(`removed ${removed}`);
          return 0;
        }
        const results = await downInstances({ cwd: ctx.globals.cwd, env: ctx.env, instances, all: flags.all === true });
        if (ctx.globals.json) {
          ctx.out.data({ instances: results });
          return 0;
        }
        printRemoved(ctx, results);
        return 0;
      }),
    );
}

function printRemoved(ctx: CommandContext, results: readonly DownResult[]): void {
  if (results.length === 0) ctx.out.info("no instances in this project");
  for (const r of results) {
    if (r.missing) {
      ctx.out.line(`${r.instance}: not found (nothing to remove)`);
      continue;
    }
    const parts = [r.removed.container ? "container" : null, r.removed.workspace ? "workspace" : null, r.removed.files.length > 0 ? "instance directory" : null];
    ctx.out.line(`${r.instance}: removed ${parts.filter((p) => p !== null).join(", ")}`);
  }
}
