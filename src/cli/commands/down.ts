import type { Command } from "commander";
import { action, examples } from "./action.ts";

export function registerDown(program: Command): void {
  program
    .command("down")
    .summary("remove instances: container, workspace checkout and instance directory (sockets, events, outbox)")
    .description("Remove the named instances, or with --all every instance carrying this project's label (nothing of other projects).")
    .argument("[instances...]", "instance names")
    .option("--all", "every instance of this project")
    .addHelpText("after", examples("cspace down issue-11", "cspace down --all"))
    .action(
      action(async (ctx, instances: string[], flags: { all?: boolean }) => {
        const { downInstances } = await import("../../services/instances/down.ts");
        const results = await downInstances({ cwd: ctx.globals.cwd, env: ctx.env, instances, all: flags.all === true });
        if (ctx.globals.json) {
          ctx.out.data({ instances: results });
          return 0;
        }
        if (results.length === 0) ctx.out.info("no instances in this project");
        for (const r of results) {
          if (r.missing) {
            ctx.out.line(`${r.instance}: not found (nothing to remove)`);
            continue;
          }
          const parts = [r.removed.container ? "container" : null, r.removed.workspace ? "workspace" : null, r.removed.files.length > 0 ? "instance directory" : null];
          ctx.out.line(`${r.instance}: removed ${parts.filter((p) => p !== null).join(", ")}`);
        }
        return 0;
      }),
    );
}
