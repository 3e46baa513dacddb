import type { Command } from "commander";
import { action, examples } from "./action.ts";
import { wantsDashboard } from "./dashboard.ts";
import { interruptible, progressPrinter } from "./run-view.ts";

interface DemoFlags {
  readonly dir?: string;
  readonly keep?: boolean;
  readonly issues?: string;
  readonly tui?: boolean;
  readonly workers?: string;
}

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .summary("run cspace coordinate end to end on a generated project: local forge, scripted agents, real containers")
    .description(
      "Generate a throwaway project (a temporary directory, or --dir) with a local forge and seven issues — a chain, a diamond, " +
        "an independent issue and two issues editing the same line — whose agents are scripted, then coordinate them to merged " +
        "code in real containers and print the report. --issues N (1 to 50) repeats that shape, each group with files of its own. " +
        "Without --keep it then removes what it made: the instances, the run's data and log (as cspace down --all --purge does), " +
        "and the temporary directory (a --dir directory is left). With --keep everything stays: cspace status, list and " +
        "down --all --purge run in <dir>/project find the run. Needs Docker and the base image (cspace doctor says how).",
    )
    .option("--dir <dir>", "make the project here (an empty or new directory) instead of a temporary one")
    .option("--keep", "keep the instances, the run's data and the directory afterwards (removed by default)")
    .option("--issues <n>", "how many issues, 1 to 50 (default 7)")
    .option("--no-tui", "timestamped progress lines on stderr even on a terminal, instead of the dashboard")
    .option("--workers <file>", 'a JSON file with the workers settings to spread the demo\'s workers over several hosts, like {"hosts": [{"name": "local", "slots": 2}, {"name": "big", "docker": "ssh://ci@build-1"}]} (README, "Beyond one machine")')
    .addHelpText("after", examples("cspace demo", "cspace demo --issues 10", "cspace demo --workers hosts.json", "cspace demo --dir /tmp/cspace-demo --keep", "cspace demo --json") + "\nExit codes: 0 every issue merged, 1 some did not, 2 a bad option, 3 Docker or git failed.\n")
    .action(
      action(async (ctx, flags: DemoFlags) => {
        const [{ demo }, { renderRunReport }] = await Promise.all([import("../../services/demo/demo.ts"), import("../../ui/coordinate-report.ts")]);
        const issues = flags.issues === undefined ? undefined : /^\d+$/.test(flags.issues.trim()) ? Number(flags.issues) : Number.NaN;
        const dashboard = wantsDashboard(ctx, flags.tui === false);
        const onProgress = dashboard ? undefined : await progressPrinter(ctx);
        return interruptible(ctx, "the demo stops here", async (signal) => {
          const view = dashboard ? await import("./demo-dashboard.ts") : null;
          const opened = view?.runOpened();
          const running = demo({
            env: ctx.env,
            dir: flags.dir,
            keep: flags.keep,
            issues,
            workersFile: flags.workers,
            signal,
            // On stderr with --json too: stdout stays NDJSON, and whoever runs it learns where the project is before the run ends.
            onCreated: (created) => process.stderr.write(`cspace demo: the project is ${created.projectDir}, its forge ${created.remote}\n`),
            onProgress,
            onRunOpened: opened?.resolve,
          });
          // On a terminal the run is drawn while it goes on, in this process (q cannot leave it: Ctrl-C stops it).
          if (view !== null && opened !== undefined) await view.showDemoRun(ctx, opened.promise, running);
          const result = await running;
          if (ctx.globals.json) {
            const where = result.left === "nothing" ? { projectId: result.projectId } : { projectId: result.projectId, projectDir: result.projectDir, remote: result.remote };
            process.stdout.write(`${JSON.stringify({ kind: "report", report: result.run.report, reportFile: result.left === "everything" ? result.run.reportFile : null, merged: result.merged, left: result.left, ...where })}\n`);
            return result.run.exitCode;
          }
          for (const line of renderRunReport(result.run.report, ctx.out.tone)) ctx.out.line(line);
          ctx.out.line("");
          if (result.left === "nothing") {
            ctx.out.line("What was merged (the demo's directory is removed; --keep keeps it):");
            for (const line of result.merged) ctx.out.line(`  ${line}`);
          } else {
            ctx.out.line(`What was merged: git --git-dir ${result.remote} log --oneline main`);
          }
          if (result.left === "everything") ctx.out.line(`Look around: cd ${result.projectDir}, then cspace status, cspace list; cspace down --all --purge removes what the demo made.`);
          return result.run.exitCode;
        });
      }),
    );
}
