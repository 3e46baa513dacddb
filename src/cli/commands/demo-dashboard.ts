import type { CommandContext } from "../context.ts";
import { showDashboard } from "./dashboard.ts";

/**
 * `cspace demo` on a terminal: the dashboard of the demo's run, drawn by the
 * process that runs it (the demo's project and data directory are its own),
 * so `q` cannot leave the run going; Ctrl-C stops the demo as before.
 */

export interface OpenedRun {
  readonly runId: string;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

export function runOpened(): { readonly promise: Promise<OpenedRun>; readonly resolve: (run: OpenedRun) => void } {
  let resolve: (run: OpenedRun) => void = () => undefined;
  const promise = new Promise<OpenedRun>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** Shows the run once it is opened, until it ends; returns at once if the demo fails before (its error is the demo's). */
export async function showDemoRun(ctx: CommandContext, opened: Promise<OpenedRun>, running: Promise<unknown>): Promise<void> {
  const settled = running.then(
    () => null,
    () => null,
  );
  const run = await Promise.race([opened, settled]);
  if (run === null) return;
  const demoOver = new AbortController();
  void settled.then(() => {
    demoOver.abort();
  });
  const outcome = await showDashboard(ctx, { runId: run.runId, cwd: run.cwd, env: run.env, canDetach: false, signal: demoOver.signal });
  // Ctrl-C is a key while the view draws (the terminal is in raw mode): it becomes the signal it would have been.
  if (outcome.kind === "interrupted") process.kill(process.pid, "SIGINT");
  if (outcome.kind === "failed") ctx.out.warn(`the dashboard stopped (${outcome.error instanceof Error ? outcome.error.message : String(outcome.error)}); the demo goes on`);
}
