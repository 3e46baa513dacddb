import { Option, type Command } from "commander";
import { UserError } from "../../core/errors.ts";
import type { CommandContext } from "../context.ts";
import { action, examples } from "./action.ts";
import { wantsDashboard } from "./dashboard.ts";
import { interruptible, progressPrinter } from "./run-view.ts";

interface CoordinateFlags {
  readonly label?: string;
  readonly milestone?: string;
  readonly featureBranch?: string;
  readonly maxParallel?: string;
  readonly agent?: string;
  readonly resume?: boolean;
  readonly abandon?: boolean;
  readonly down?: boolean;
  readonly fresh?: readonly string[];
  readonly parent?: string;
  /** False with --no-tui: timestamped lines even on a terminal. */
  readonly tui?: boolean;
  /** Hidden: the descriptor on which the detached coordinator says which run it opened (coordinate-attached.ts). */
  readonly readyFd?: string;
}

export function registerCoordinate(program: Command): void {
  program
    .command("coordinate")
    .summary("take issues to merged code: one agent per issue, stacked branches, verified, merged in dependency order")
    .description(
      "Load the issues and their dependency graph, warm an instance per issue, launch agents as the base-branch rule allows, " +
        "push, verify and open pull requests, merge in dependency order and restack what sat on each merge. Every step is " +
        "recorded in the project's event log first, so --resume carries a run on after a crash. Progress lines go to stderr; " +
        "the report goes to stdout (a markdown copy in the run directory). While it runs, `cspace status` shows the table from " +
        "any terminal and `cspace send _coordinator \"pause\"` (also \"resume\", \"pause 12\", \"skip 12 <why>\", \"reset 12\") steers it. " +
        "An issue-N left by an earlier run (a failed issue's branch stays on the forge) is carried over at the issue's first launch: " +
        "its own commits are replayed onto the current base (kept on their old base when that conflicts), and the progress line says " +
        "which commit the agent starts from; --fresh N discards it instead. " +
        "On a terminal (stdin and stdout) the run is shown as a live dashboard instead of lines: the coordinator runs in a background " +
        "process (its output in the run directory's coordinator.log), keys steer it (p pause/resume, s skip, r retry, enter: the selected " +
        "issue's events), q leaves it running (cspace status --watch or cspace coordinate --resume shows it again) and Ctrl-C stops it; " +
        "--no-tui keeps the lines.",
    )
    .argument("[issues...]", "issue numbers (default: every open issue matching --label/--milestone)")
    .option("--label <label>", "select the open issues with this label")
    .option("--milestone <milestone>", "select the open issues of this milestone (the feature branch defaults to feature/<milestone>)")
    .option("--feature-branch <branch>", "where finished work is merged (created from the default branch if missing)")
    .option("--max-parallel <n>", "agents working at once (coordinator.maxParallel)")
    .option("--agent <preset>", "the agent preset (agent.preset)")
    .option("--resume", "carry on the latest run from its log")
    .option(
      "--abandon",
      "end the latest unfinished run where it stands (recorded as abandoned; its log stays for cspace status) so a new run can start; " +
        "nothing is stopped or removed — cspace down removes its instances",
    )
    .option("--down", "remove the instances when the run ends (kept for inspection otherwise)")
    .option(
      "--fresh <issues>",
      "start these issues fresh from their base: the issue-N an earlier run left is moved back to the base (on the forge and in the worker) " +
        "instead of being carried over, and its open pull request is reused for the new work (repeatable, or a list: --fresh 12,14)",
      (value: string, previous: readonly string[] | undefined) => [...(previous ?? []), value],
    )
    .option(
      "--parent <issue>",
      "take the sub-issues of this issue (GitHub's sub-issues; `parent: N` in a local issue's front matter), whatever their state, " +
        "plus any issues named beside it; with coordinator.progressComments one comment on it follows the run",
    )
    .option("--no-tui", "timestamped progress lines on stderr even on a terminal, instead of the dashboard")
    .addOption(new Option("--ready-fd <fd>", "the descriptor on which to write the run's id once it is opened (the dashboard's detached coordinator)").hideHelp())
    .addHelpText(
      "after",
      examples("cspace coordinate 10 11 12", "cspace coordinate --parent 42", "cspace coordinate 10 11 12 --fresh 12", "cspace coordinate --label ready --max-parallel 3", "cspace coordinate --resume", "cspace coordinate --abandon", "cspace coordinate 10 11 --json") +
        "\nExit codes: 0 every issue merged, 1 some failed or were blocked, 2 bad input or another coordinator runs, 3 Docker, git or the forge failed, 130/143/129 interrupted (SIGINT/SIGTERM/SIGHUP; --resume carries the run on).\n",
    )
    .action(
      action(async (ctx, issues: string[], flags: CoordinateFlags) => {
        if (flags.abandon === true) return abandon(ctx, issues, flags);
        if (flags.parent !== undefined && flags.resume === true) {
          throw new UserError("--parent starts a new run: --resume carries on the latest run with the issues (and parent) it started with", { hint: "cspace coordinate --resume" });
        }
        if (wantsDashboard(ctx, flags.tui === false)) {
          const { attachedCoordinate } = await import("./coordinate-attached.ts");
          return attachedCoordinate(ctx, flags.resume === true);
        }
        const onRunOpened = flags.readyFd === undefined ? undefined : (await import("./coordinate-attached.ts")).announceRun(descriptor(flags.readyFd));
        const [{ coordinate }, { renderRunReport, renderReview }] = await Promise.all([import("../../services/coordinate/coordinate.ts"), import("../../ui/coordinate-report.ts")]);
        const onProgress = await progressPrinter(ctx);
        return interruptible(ctx, "the run stops here; cspace coordinate --resume carries it on", async (signal) => {
          const result = await coordinate({
            cwd: ctx.globals.cwd,
            env: ctx.env,
            numbers: issues.map(issueNumber),
            label: flags.label,
            milestone: flags.milestone,
            featureBranch: flags.featureBranch,
            maxParallel: flags.maxParallel === undefined ? undefined : positive(flags.maxParallel),
            agent: flags.agent,
            resume: flags.resume,
            down: flags.down,
            fresh: freshIssues(flags.fresh ?? []),
            parent: flags.parent === undefined ? undefined : parentIssue(flags.parent),
            signal,
            onProgress,
            onRunOpened,
          });
          if (ctx.globals.json) process.stdout.write(`${JSON.stringify({ kind: "report", report: result.report, reportFile: result.reportFile })}\n`);
          else for (const line of [...renderRunReport(result.report, ctx.out.tone), ...renderReview(result.report, ctx.out.tone)]) ctx.out.line(line);
          return result.exitCode;
        });
      }),
    );
}

/** `--abandon`: ends the latest unfinished run and shows its table as it stood; exit 0 once recorded. */
async function abandon(ctx: CommandContext, issues: readonly string[], flags: CoordinateFlags): Promise<number> {
  const other = [...(issues.length > 0 ? ["issue numbers"] : []), ...(flags.resume === true ? ["--resume"] : []), ...(flags.fresh === undefined ? [] : ["--fresh"]), ...(flags.label === undefined ? [] : ["--label"]), ...(flags.milestone === undefined ? [] : ["--milestone"]), ...(flags.parent === undefined ? [] : ["--parent"])];
  if (other.length > 0) throw new UserError(`--abandon takes no ${other.join(", ")}: it ends the latest run`, { hint: "cspace coordinate --abandon, then cspace coordinate <issues…>" });
  const [{ abandonRun }, { renderRunReport }] = await Promise.all([import("../../services/coordinate/coordinate.ts"), import("../../ui/coordinate-report.ts")]);
  const result = await abandonRun({ cwd: ctx.globals.cwd, env: ctx.env });
  if (ctx.globals.json) {
    process.stdout.write(`${JSON.stringify({ kind: "abandoned", runId: result.runId, report: result.report })}\n`);
    return 0;
  }
  for (const line of renderRunReport(result.report, ctx.out.tone)) ctx.out.line(line);
  ctx.out.line(`Run ${result.runId} abandoned: cspace coordinate <issues…> starts a new one; its instances are kept (cspace down removes them).`);
  return 0;
}

function issueNumber(text: string): number {
  const n = Number(text.replace(/^#/, ""));
  if (!Number.isInteger(n) || n <= 0) throw new UserError(`"${text}" is not an issue number`, { hint: "cspace coordinate 10 11 12" });
  return n;
}

function parentIssue(text: string): number {
  const n = Number(text.replace(/^#/, ""));
  if (!Number.isInteger(n) || n <= 0) throw new UserError(`--parent expects an issue number, not "${text}"`, { hint: "cspace coordinate --parent 42" });
  return n;
}

/** `--fresh 12 --fresh 14,15`: the issue numbers, each once. */
function freshIssues(values: readonly string[]): number[] {
  const numbers = values.flatMap((value) => value.split(",")).map((text) => text.trim()).filter((text) => text.length > 0);
  return [...new Set(numbers.map((text) => {
    const n = Number(text.replace(/^#/, ""));
    if (!Number.isInteger(n) || n <= 0) throw new UserError(`--fresh expects issue numbers, not "${text}"`, { hint: "cspace coordinate 10 11 12 --fresh 12" });
    return n;
  }))];
}

function descriptor(text: string): number {
  const fd = Number(text);
  if (!Number.isInteger(fd) || fd < 3) throw new UserError(`--ready-fd expects a file descriptor of 3 or more, not "${text}"`);
  return fd;
}

function positive(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`--max-parallel expects a whole number of at least 1, not "${text}"`);
  return n;
}
