import type { Command } from "commander";
import { action, examples } from "./action.ts";

interface WarmFlags {
  readonly base?: string;
  readonly reset?: boolean;
  readonly force?: boolean;
}

export function registerWarm(program: Command): void {
  program
    .command("warm")
    .summary("make instances ready: image, workspace, container, lifecycle commands, validated")
    .description(
      "Provision one container per instance from the project's devcontainer.json, in parallel (container.warmConcurrency), " +
        "each with its own git checkout at the base branch. Ready instances are only validated again; stopped ones are restarted. " +
        "A failed instance is retried once from scratch, then removed.",
    )
    .argument("<instances...>", 'instance names, like issue-10 ("a-z", "0-9", ".", "_", "-"; at most 63)')
    .option("--base <branch>", "the branch each workspace starts from (default: coordinator.featureBranch, else the default branch)")
    .option("--reset", "remake instances whose base differs from --base, instead of refusing")
    .option("--force", "with --reset: remake instances even when a running coordinator uses them (its attempt is lost)")
    .addHelpText("after", examples("cspace warm issue-10 issue-11 issue-12", "cspace warm issue-10 --base feature/login", "cspace warm issue-10 --json"))
    .action(
      action(async (ctx, instances: string[], flags: WarmFlags) => {
        const { warm } = await import("../../services/warm/warm.ts");
        const { WarmProgress, warmSummary } = await import("../../ui/warm-progress.ts");
        const controller = new AbortController();
        // SIGTERM (a CI timeout, `kill`, a closing service manager) and SIGHUP (a closed terminal) clean up like Ctrl-C.
        const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
        let received: (typeof signals)[number] | undefined;
        const interrupt = (signal: (typeof signals)[number]): void => {
          if (received !== undefined) return;
          received = signal;
          ctx.out.info(`${signal === "SIGINT" ? "interrupted" : `received ${signal}`}: removing what was being made…`);
          controller.abort(new Error("interrupted"));
        };
        for (const signal of signals) process.on(signal, interrupt);
        const exitCode = (): number => 128 + (received === "SIGTERM" ? 15 : received === "SIGHUP" ? 1 : 2);
        const progress = new WarmProgress(process.stderr, instances);
        try {
          const result = await warm({
            cwd: ctx.globals.cwd,
            env: ctx.env,
            instances,
            base: flags.base,
            reset: flags.reset === true,
            force: flags.force === true,
            signal: controller.signal,
            onEvent: progress.onEvent,
          });
          progress.stop();
          if (ctx.globals.json) ctx.out.data(result);
          else for (const line of warmSummary(result.instances)) ctx.out.line(line);
          if (controller.signal.aborted) return exitCode();
          return result.instances.every((o) => o.status === "ready") ? 0 : 1;
        } catch (error) {
          // Interrupted before any instance was being made (image, store fetch): nothing to remove, and not a failure of cspace's.
          if (controller.signal.aborted) return exitCode();
          throw error;
        } finally {
          progress.stop();
          for (const signal of signals) process.removeListener(signal, interrupt);
        }
      }),
    );
}
