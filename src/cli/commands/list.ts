import type { Command } from "commander";
import { action, examples } from "./action.ts";

export function registerList(program: Command): void {
  program
    .command("list")
    .summary("this project's instances: container state, base branch, age, image; and each agent's state, turns, cost, last activity")
    .description(
      "List the containers carrying this project's label (other projects' instances are never shown), with their agents. " +
        "Every supervisor is asked at once with a short timeout. AGENT is working, idle, starting, exited <code or signal>, " +
        "none, or lost (with how long ago its last event was) when the container is gone or stopped or the supervisor does " +
        "not answer while its agent had not exited. The agent columns appear once any instance has run an agent. " +
        "BASE is the branch its agent was launched on (a dependency's issue-<N> when stacked, as the run's report says), else the one its container was made from. " +
        "With several hosts configured (workers.hosts), every host is asked at once, HOST says which one each instance runs on, and a host that does not answer is named on a line of its own (the others are still listed).",
    )
    .addHelpText("after", examples("cspace list", "cspace list --json"))
    .action(
      action(async (ctx) => {
        const [{ listProject }, { AGENT_HEADER, agentCells }] = await Promise.all([import("../../services/instances/list.ts"), import("../../ui/worker-status.ts")]);
        const { instances, unreachableHosts, severalHosts } = await listProject({ cwd: ctx.globals.cwd, env: ctx.env });
        if (ctx.globals.json) {
          ctx.out.data({ instances, unreachableHosts });
          return 0;
        }
        for (const unreachable of unreachableHosts) {
          ctx.out.line(`host ${unreachable.host} did not answer, so its workers are not listed: ${unreachable.error}`);
        }
        if (instances.length === 0) {
          ctx.out.info("no instances in this project (cspace warm <name> makes one)");
          return 0;
        }
        const agents = instances.some((i) => i.agent.state !== "none");
        const now = Date.now();
        const hostCell = (host: string | null): string[] => (severalHosts ? [host ?? "-"] : []);
        const rows = instances.map((i) => [i.instance, ...hostCell(i.host), i.state, i.base ?? "-", age(now - Date.parse(i.createdAt)), i.image, ...(agents ? agentCells(i.agent, now) : [])]);
        const header = ["INSTANCE", ...(severalHosts ? ["HOST"] : []), "STATE", "BASE", "AGE", "IMAGE", ...(agents ? AGENT_HEADER : [])];
        const widths = header.map((h, n) => Math.max(h.length, ...rows.map((r) => (r[n] ?? "").length)));
        for (const cells of [header, ...rows]) ctx.out.line(cells.map((c, n) => c.padEnd(widths[n] ?? 0)).join("  ").trimEnd());
        for (const i of instances.filter((x) => x.outdated.length > 0)) {
          ctx.out.line(`${i.instance} is outdated: ${i.outdated.join("; ")}. \`cspace warm ${i.instance}\` makes it again, keeping its work.`);
        }
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
