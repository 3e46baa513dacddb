import type { DashboardModel } from "../../core/dashboard/model.ts";

/**
 * What a live view receives while it follows a run's event log
 * (`watchRun` in ./watch-run.ts): the dashboard's model after each batch of
 * events, and what only the workers' files hold. Both `cspace coordinate` on
 * a terminal and `cspace status --watch` render this.
 */
export interface WatchFrame {
  readonly model: DashboardModel;
  /**
   * Each issue's agent's last line, made safe for a terminal (a worker writes
   * it: control characters and escape sequences removed, at most 200
   * characters). Absent for an issue whose worker said nothing yet.
   */
  readonly lastLines: ReadonlyMap<number, string>;
  /** The run's coordinator is alive (its lock is held), so operator keys can reach it. */
  readonly coordinatorAlive: boolean;
  /**
   * The notifications the run recorded (`Notified`) since the previous frame, for the view to ring the
   * terminal with; none in the first frame, which replays what happened before the view came.
   */
  readonly notified?: readonly { readonly issue: number | null; readonly reason: string }[] | undefined;
}

export interface WatchOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** A run id (`cspace report --run`, `status --watch --run`); the latest run when absent. */
  readonly runId?: string | undefined;
  /** Stops following: the iterator ends after its current frame. */
  readonly signal: AbortSignal;
}

/** One line of a worker's recent events for the `enter` panel, made safe for a terminal. */
export interface RecentEvent {
  readonly at: string;
  readonly text: string;
}
