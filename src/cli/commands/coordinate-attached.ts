import { closeSync, writeSync } from "node:fs";
import { ExternalError } from "../../core/errors.ts";
import type { LiveCoordinator } from "../../services/coordinate/attach.ts";
import type { DetachedCoordinator } from "../../services/coordinate/detached.ts";
import type { CommandContext } from "../context.ts";
import { showDashboard } from "./dashboard.ts";

/**
 * `cspace coordinate` on a terminal: the coordinator runs detached in a child
 * process (`coordinate <same arguments> --no-tui`, its output in the run
 * directory's coordinator.log) and this process is the dashboard. `q` leaves
 * the run going; Ctrl-C stops it as before (SIGINT to the child, which stops
 * between steps and exits 130); when the run ends the report is printed and
 * the child's exit code is this command's.
 */
export async function attachedCoordinate(ctx: CommandContext, resume: boolean): Promise<number> {
  if (resume) {
    const { liveCoordinator } = await import("../../services/coordinate/attach.ts");
    const live = await liveCoordinator({ cwd: ctx.globals.cwd, env: ctx.env });
    if (live !== null) return reattach(ctx, live);
  }
  const { startDetachedCoordinator } = await import("../../services/coordinate/detached.ts");
  const entry = process.argv[1];
  if (entry === undefined) throw new ExternalError("cannot tell how cspace was started, to run the coordinator in the background", { hint: "cspace coordinate --no-tui runs it in this terminal" });
  const child = await startDetachedCoordinator({ cwd: ctx.globals.cwd, processCwd: process.cwd(), env: ctx.env, node: process.execPath, entry: [entry], args: process.argv.slice(2) });
  const stopSignals = forwardSignals(child);
  try {
    const runId = await child.opened;
    if (runId === null) {
      // It ended before a run opened (bad input, a coordinator already running): what it said is the answer.
      const exit = await child.exited;
      process.stderr.write(await child.output());
      return exit.code;
    }
    const childGone = new AbortController();
    void child.exited.then(() => {
      childGone.abort();
    });
    const outcome = await showDashboard(ctx, { runId, canDetach: true, signal: childGone.signal });
    switch (outcome.kind) {
      case "detached":
        child.release();
        ctx.out.info(detachedLine(child.pid, child.logFile));
        return 0;
      case "failed":
        child.release();
        throw new ExternalError(`the dashboard stopped: ${outcome.error instanceof Error ? outcome.error.message : String(outcome.error)}`, { hint: detachedLine(child.pid, child.logFile), cause: outcome.error });
      case "interrupted":
        ctx.out.info("interrupted: stopping the run between two steps…");
        child.signal("SIGINT");
        break;
      case "ended":
      case "stopped":
        break;
    }
    const exit = await child.exited;
    return await finished(ctx, exit.code, child);
  } finally {
    stopSignals();
  }
}

/** The child's way of saying which run it opened: a line on the descriptor the parent gave it (`--ready-fd`). */
export function announceRun(fd: number): (runId: string) => void {
  return (runId) => {
    try {
      writeSync(fd, `${runId}\n`);
      closeSync(fd);
    } catch {
      // The view that asked is gone (it detached or was killed): the run goes on regardless.
    }
  };
}

function detachedLine(pid: number, logFile: string): string {
  return `Detached: the run goes on in process ${String(pid)} (its output: ${logFile}). cspace status --watch shows it again, cspace send _coordinator "pause" steers it, kill -INT ${String(pid)} stops it.`;
}

/** The run's report as `cspace status` prints it when the run ended; the child's last words when it failed otherwise. */
async function finished(ctx: CommandContext, code: number, child: DetachedCoordinator): Promise<number> {
  if (code === 0 || code === 1) {
    await printReport(ctx);
    return code;
  }
  const lines = (await child.output()).trimEnd().split("\n");
  process.stderr.write(`${lines.slice(-20).join("\n")}\n`);
  if (code >= 128) ctx.out.info(`the run stopped (exit ${String(code)}); cspace coordinate --resume carries it on`);
  return code;
}

async function printReport(ctx: CommandContext): Promise<number> {
  const [{ runStatus }, { renderRunReport }] = await Promise.all([import("../../services/coordinate/run-status.ts"), import("../../ui/coordinate-report.ts")]);
  const run = await runStatus({ cwd: ctx.globals.cwd, env: ctx.env });
  if (run.report === null) return 1;
  for (const line of renderRunReport(run.report, ctx.out.tone)) ctx.out.line(line);
  return run.report.exitCode;
}

/**
 * While attached: SIGINT and SIGTERM sent to this process stop the run (they
 * are forwarded, the child winds down and its code is returned); SIGHUP (the
 * terminal closed) leaves it going, as `q` does.
 */
function forwardSignals(child: DetachedCoordinator): () => void {
  const forward = (signal: NodeJS.Signals) => (): void => {
    child.signal(signal);
  };
  const handlers: [NodeJS.Signals, () => void][] = [
    ["SIGINT", forward("SIGINT")],
    ["SIGTERM", forward("SIGTERM")],
    [
      "SIGHUP",
      () => {
        child.release();
        process.exit(129);
      },
    ],
  ];
  for (const [signal, handler] of handlers) process.on(signal, handler);
  return () => {
    for (const [signal, handler] of handlers) process.removeListener(signal, handler);
  };
}

/** `coordinate --resume` on a terminal while a coordinator runs: the view of its run, instead of a refusal. */
async function reattach(ctx: CommandContext, live: LiveCoordinator): Promise<number> {
  ctx.out.info(`A coordinator runs this project already (process ${String(live.pid)} on ${live.host}, since ${live.startedAt}): showing its run.`);
  const outcome = await showDashboard(ctx, { canDetach: true });
  switch (outcome.kind) {
    case "detached":
    case "stopped":
      ctx.out.info(`Detached: the run goes on in process ${String(live.pid)}; cspace status --watch shows it again.`);
      return 0;
    case "failed":
      throw new ExternalError(`the dashboard stopped: ${outcome.error instanceof Error ? outcome.error.message : String(outcome.error)}`, { hint: "the run goes on: cspace status --watch follows it", cause: outcome.error });
    case "interrupted": {
      if (!live.local) {
        ctx.out.info(`The coordinator runs on ${live.host}: it cannot be stopped from here, and goes on.`);
        return 0;
      }
      ctx.out.info(`interrupted: stopping the coordinator (process ${String(live.pid)}) between two steps…`);
      const { stopCoordinator } = await import("../../services/coordinate/attach.ts");
      await stopCoordinator({ cwd: ctx.globals.cwd, env: ctx.env }, live);
      ctx.out.info("the run stops here; cspace coordinate --resume carries it on");
      return 130;
    }
    case "ended":
      return printReport(ctx);
  }
}
