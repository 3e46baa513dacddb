import type { Command } from "commander";
import { action, examples } from "./action.ts";

export function registerList(program: Command): void {
  program
    .command("list")
    .summary("this project's instances: state, base branch, age, image")
    .description("List the containers carrying this project's label (other projects' instances are never shown).")
    .addHelpText("after", examples("cspace list", "cspace list --json"))
    .action(
      action(async (ctx) => {
        const { listInstances } = await import("../../services/instances/list.ts");
        const instances = await listInstances({ cwd: ctx.globals.cwd, env: ctx.env });
        if (ctx.globals.json) {
          ctx.out.data({ instances });
          return 0;
        }
        if (instances.length === 0) {
          ctx.out.info("no instances in this project (cspace warm <name> makes one)");
          return 0;
        }
        const rows = instances.map((i) => [i.instance, i.state, i.base ?? "-", age(Date.now() - Date.parse(i.createdAt)), i.image]);
        const header = ["INSTANCE", "STATE", "BASE", "AGE", "IMAGE"];
        const widths = header.map((h, n) => Math.max(h.length, ...rows.map((r) => (r[n] ?? "").length)));
        for (const cells of [header, ...rows]) ctx.out.line(cells.map((c, n) => c.padEnd(widths[n] ?? 0)).join("  ").trimEnd());
        return 0;
      }),
    );
}

function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}
