import type { Command } from "commander";
import { UserError } from "../../core/errors.ts";
import type { DownReport } from "../../services/instances/down.ts";
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
        "requests) or any image. Refused while a coordinator runs the project.\n\n" +
        "With several hosts (workers.hosts) every host is asked: a worker is removed wherever it runs, and --all also " +
        "removes each host's egress proxy, mirror keepers and mirror and checkout volumes. A host that does not answer is " +
        "named with what was left there, the others are cleaned all the same, and the exit code is 1.",
    )
    .argument("[instances...]", "instance names")
    .option("--all", "every instance of this project")
    .option("--purge", "with --all: also remove the project's object store, event log and run reports")
    .addHelpText("after", examples("cspace down issue-11", "cspace down --all", "cspace down --all --purge"))
    .action(
      action(async (ctx, instances: string[], flags: { all?: boolean; purge?: boolean }) => {
        const { downAndPurge, downProject } = await import("../../services/instances/down.ts");
        if (flags.purge === true) {
          if (flags.all !== true || instances.length > 0) throw new UserError("--purge removes the whole project's data: it goes with --all, not with instance names", { hint: "cspace down --all --purge" });
          const result = await downAndPurge({ cwd: ctx.globals.cwd, env: ctx.env });
          if (ctx.globals.json) {
            ctx.out.data(result);
            return exitCode(result);
          }
          printReport(ctx, result, true);
          if (result.purged.length === 0) ctx.out.line("no data or logs of this project to remove");
          for (const removed of result.purged) ctx.out.line(`removed ${removed}`);
          return exitCode(result);
        }
        const all = flags.all === true;
        const report = await downProject({ cwd: ctx.globals.cwd, env: ctx.env, instances, all });
        if (ctx.globals.json) {
          ctx.out.data(report);
          return exitCode(report);
        }
        printReport(ctx, report, all);
        return exitCode(report);
      }),
    );
}

/** 1 when a host did not answer: what it holds of the project is still there. */
function exitCode(report: DownReport): number {
  return report.unreachableHosts.length > 0 ? 1 : 0;
}

function printReport(ctx: CommandContext, report: DownReport, all: boolean): void {
  if (report.instances.length === 0 && all) ctx.out.info("no instances in this project");
  for (const r of report.instances) {
    if (r.missing) {
      ctx.out.line(`${r.instance}: not found (nothing to remove)`);
      continue;
    }
    const parts = [r.removed.container ? "container" : null, r.removed.workspace ? "workspace" : null, r.removed.files.length > 0 ? "instance directory" : null];
    ctx.out.line(`${r.instance}: removed ${parts.filter((p) => p !== null).join(", ")}`);
  }
  for (const host of report.hosts) {
    if (host.removed.length > 0) ctx.out.line(`host ${host.host}: removed ${host.removed.join(", ")}`);
  }
  for (const silent of report.unreachableHosts) {
    const left = all ? "its workers, egress proxy, mirror keepers and volumes there were" : "whatever these instances have there was";
    ctx.out.line(`host ${silent.host} did not answer, so ${left} not removed: ${silent.error}`);
  }
  if (report.unreachableHosts.length > 0) ctx.out.info(`Run cspace down${all ? " --all" : ""} again once ${report.unreachableHosts.map((h) => h.host).join(", ")} answers (cspace doctor checks each host).`);
}
