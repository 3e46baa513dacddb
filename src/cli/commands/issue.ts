import type { Command } from "commander";
import { UserError } from "../../core/errors.ts";
import { action, examples } from "./action.ts";
import { startAndReport } from "./up.ts";

export function registerIssue(program: Command): void {
  program
    .command("issue")
    .summary("start an agent on an issue: its prompt rendered from the implementer template, on the base the plan gives")
    .description(
      "Read issue <N> from the forge, compute its base branch as `cspace plan` does (a dependency's branch when stacked, " +
        "else the feature branch), render the implementer template (templates.implementer, .cspace/templates/, or the " +
        "built-in) with the issue, its dependencies, the branches and the verify commands, then `cspace up issue-<N>` on that base. " +
        "An issue that must wait for unmerged dependencies without a branch to stack on is refused (exit 2), naming them.",
    )
    .argument("<issue>", "the issue number, like 12 or #12")
    .option("--agent <preset>", "the agent preset (default: agent.preset)")
    .option("--follow", "stream the agent's events until it exits; exit with its status (0 succeeded, 1 otherwise)")
    .addHelpText(
      "after",
      examples("cspace issue 12", "cspace issue 12 --agent scripted --follow", "cspace issue 12 --json") +
        "\nExit codes: 0 started (with --follow: the agent succeeded), 1 (--follow) it did not, 2 the issue must wait, is closed or its template is invalid, 3 Docker, the forge or the supervisor unavailable.\n",
    )
    .action(
      action(async (ctx, raw: string, flags: { agent?: string; follow?: boolean }) => {
        const issue = parseIssue(raw);
        const [{ startIssue, instanceForIssue }] = await Promise.all([import("../../services/workers/issue.ts")]);
        return startAndReport(ctx, instanceForIssue(issue), flags.follow === true, (signal, onWarmEvent) =>
          startIssue({ cwd: ctx.globals.cwd, env: ctx.env, issue, agent: flags.agent, signal, onWarmEvent, onNotice: (text) => { ctx.out.info(`${instanceForIssue(issue)}: ${text}`); } }),
        );
      }),
    );
}

function parseIssue(raw: string): number {
  const match = /^#?(\d+)$/.exec(raw.trim());
  const n = match === null ? Number.NaN : Number(match[1]);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UserError(`"${raw}" is not an issue number`, { hint: "cspace issue 12" });
  return n;
}
