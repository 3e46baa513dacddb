import type { ProgressListener } from "../../core/coordinator-runtime/progress.ts";
import { UserError } from "../../core/errors.ts";
import type { CommandContext } from "../context.ts";

const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
type StopSignal = keyof typeof SIGNALS;

/**
 * Runs `work` with an AbortSignal that SIGINT, SIGTERM and SIGHUP (a closed
 * terminal) abort: a coordinated run stops between steps, records nothing
 * more and releases its lock, and --resume carries it on. The command then
 * ends at once with 128 + the signal's number, as a shell expects, rather
 * than waiting for what was under way (a warm, a verify, a git push): every
 * action checks the world first, so the resumed run does it again safely,
 * as after a `kill -9`.
 */
export async function interruptible(ctx: CommandContext, message: string, work: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const controller = new AbortController();
  let received: StopSignal | undefined;
  const handlers = Object.keys(SIGNALS).map((name) => {
    const signal = name as StopSignal;
    const stop = (): void => {
      if (received !== undefined) return;
      received = signal;
      controller.abort(new UserError(message));
    };
    process.on(signal, stop);
    return [signal, stop] as const;
  });
  try {
    return await work(controller.signal);
  } catch (error) {
    if (received === undefined) throw error;
    const code = 128 + SIGNALS[received];
    ctx.out.info(`${received === "SIGINT" ? "interrupted" : `received ${received}`}: ${message}`);
    if (ctx.globals.json) process.stdout.write(`${JSON.stringify({ kind: "interrupted", signal: received, exitCode: code })}\n`);
    // Writes to pipes, files and terminals are synchronous here (Linux, macOS), so nothing printed is lost.
    return process.exit(code);
  } finally {
    for (const [signal, stop] of handlers) process.removeListener(signal, stop);
  }
}

/** How a run's progress is shown: NDJSON on stdout with --json, else timestamped lines on stderr. */
export async function progressPrinter(ctx: CommandContext): Promise<ProgressListener> {
  if (ctx.globals.json) {
    return (progress) => {
      process.stdout.write(`${JSON.stringify(progress)}\n`);
    };
  }
  const [{ progressLine }, { terminalNotification }] = await Promise.all([import("../../ui/coordinate-lines.ts"), import("../../ui/terminal-notification.ts")]);
  // A notification (something needs a person, the run ended) also pings the terminal, when stderr is one.
  const attached = process.stderr.isTTY;
  return (progress) => {
    const line = progressLine(progress);
    if (line !== null) process.stderr.write(`${line}\n`);
    if (attached && progress.kind === "event" && progress.event.type === "Notified") process.stderr.write(terminalNotification(progress.event));
  };
}
