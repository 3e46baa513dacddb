import type { ProgressListener } from "../../core/coordinator-runtime/progress.ts";
import { UserError } from "../../core/errors.ts";
import type { CommandContext } from "../context.ts";

/**
 * Runs `work` with an AbortSignal that SIGINT, SIGTERM and SIGHUP (a closed
 * terminal) abort with `message`: a coordinated run stops cleanly between
 * steps and is carried on by --resume.
 */
export async function interruptible<T>(message: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const stop = (): void => {
    controller.abort(new UserError(message));
  };
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  for (const signal of signals) process.on(signal, stop);
  try {
    return await work(controller.signal);
  } finally {
    for (const signal of signals) process.removeListener(signal, stop);
  }
}

/** How a run's progress is shown: NDJSON on stdout with --json, else timestamped lines on stderr. */
export async function progressPrinter(ctx: CommandContext): Promise<ProgressListener> {
  if (ctx.globals.json) {
    return (progress) => {
      process.stdout.write(`${JSON.stringify(progress)}\n`);
    };
  }
  const { progressLine } = await import("../../ui/coordinate-lines.ts");
  return (progress) => {
    const line = progressLine(progress);
    if (line !== null) process.stderr.write(`${line}\n`);
  };
}
