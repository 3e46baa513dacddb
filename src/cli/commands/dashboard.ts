import type { DashboardOutcome } from "../../ui/dashboard/run.ts";
import type { CommandContext } from "../context.ts";

/**
 * The terminal wiring of the run dashboard, shared by `coordinate`, `demo` and
 * `status --watch`. Every module of the view (ink, react) is imported here,
 * lazily, and only on these paths: no other command loads them
 * (bench/startup checks it).
 */

/** The dashboard is drawn when both ends are a terminal (keys need stdin) and neither --json nor --no-tui asked for lines. */
export function wantsDashboard(ctx: CommandContext, noTui: boolean): boolean {
  return !ctx.globals.json && !noTui && process.stdout.isTTY && process.stdin.isTTY;
}

export interface ShowDashboard {
  /** The run to follow; the project's latest when absent. */
  readonly runId?: string | undefined;
  /** `q` leaves the view while the run goes on (not where the run lives in this very process). */
  readonly canDetach: boolean;
  /** Ends the view (the coordinator's process exited). */
  readonly signal?: AbortSignal | undefined;
  /** Where the run's project is, when not the command's (the demo's generated project). */
  readonly cwd?: string | undefined;
  readonly env?: NodeJS.ProcessEnv | undefined;
}

/** How many of a worker's events the `enter` panel shows. */
const PANEL_EVENTS = 20;

export async function showDashboard(ctx: CommandContext, options: ShowDashboard): Promise<DashboardOutcome> {
  const [{ runDashboard }, { colourWanted }, { watchRun, recentEvents }, { sendMessage }, { terminalNotification }] = await Promise.all([
    import("../../ui/dashboard/run.ts"),
    import("../../ui/dashboard/colour.ts"),
    import("../../services/coordinate/watch-run.ts"),
    import("../../services/workers/send.ts"),
    import("../../ui/terminal-notification.ts"),
  ]);
  const cwd = options.cwd ?? ctx.globals.cwd;
  const env = options.env ?? ctx.env;
  // The follower stops with the view, whichever way it ends.
  const follow = new AbortController();
  try {
    return await runDashboard({
      frames: ringing(watchRun({ cwd, env, runId: options.runId, signal: follow.signal }), (notice) => process.stdout.write(terminalNotification(notice, env))),
      send: async (command) => {
        const result = await sendMessage({ cwd, env, instance: "_coordinator", text: command });
        return "answer" in result ? result.answer : "sent";
      },
      recentEvents: (issue) => recentEvents({ cwd, env, runId: options.runId }, issue, PANEL_EVENTS),
      colour: colourWanted(env, process.stdout),
      canDetach: options.canDetach,
      stdout: process.stdout,
      stdin: process.stdin,
      stderr: process.stderr,
      signal: options.signal,
    });
  } finally {
    follow.abort();
  }
}

/**
 * The frames as they come, ringing the terminal (a notification and the bell:
 * ui/terminal-notification.ts) for each notification the run recorded since
 * the previous frame: the coordinator behind the view writes to its log file,
 * not to this terminal. The sequences move no cursor, so ink's drawing is kept.
 */
async function* ringing<T extends { readonly notified?: readonly { readonly issue: number | null; readonly reason: string }[] | undefined }>(
  frames: AsyncIterable<T>,
  ring: (notice: { readonly issue: number | null; readonly reason: string }) => void,
): AsyncGenerator<T, void, undefined> {
  for await (const frame of frames) {
    for (const notice of frame.notified ?? []) ring(notice);
    yield frame;
  }
}
