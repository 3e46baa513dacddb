import type { Command } from "commander";
import { ExitCode } from "../../core/errors.ts";
import { action, examples } from "./action.ts";

export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .summary("check that this machine is ready: Docker engine, base image, each host, git, Node.js, config, forge, run directory")
    .description(
      "Check everything cspace needs and say how to fix what is missing: the Docker engine (DOCKER_HOST respected) " +
        "and the base image; with several hosts configured (workers.hosts), each host's engine (version), the worker image there and its slots; git 2.38+, Node.js 22.13+, the configuration, the forge (issues directory and remote, " +
        "or GitHub sign-in and squash merges allowed), the run directory, and what a run needs (a git repository with a " +
        "commit; in the worker image, the agent's executable or npm to install it and the verify commands' executables; " +
        "the agent's key passed by name), as coordinate checks them before it starts. Exits 0 when every required check passes, 1 otherwise.",
    )
    .addHelpText(
      "after",
      examples("cspace doctor", "cspace doctor --json | jq '.checks[] | select(.status != \"pass\")'", "DOCKER_HOST=tcp://build-box:2375 cspace doctor"),
    )
    .action(
      action(async (ctx) => {
        const { runDoctor } = await import("../../services/doctor.ts");
        const report = await runDoctor({ cwd: ctx.globals.cwd, env: ctx.env });
        if (ctx.globals.json) {
          ctx.out.data(report);
        } else {
          const { renderDoctorReport } = await import("../../ui/doctor-report.ts");
          const ascii = ctx.env.TERM === "dumb";
          for (const line of renderDoctorReport(report, { paint: ctx.out.tone, ascii })) ctx.out.line(line);
        }
        return report.ok ? ExitCode.ok : ExitCode.finishedWithFailures;
      }),
    );
}
