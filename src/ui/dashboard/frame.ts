import type { DashboardModel } from "../../core/dashboard/model.ts";

/**
 * What the view draws, declared here so src/ui needs nothing from services:
 * services/coordinate/watch-types.ts's WatchFrame and RecentEvent have this
 * shape, and the wiring (src/cli/commands/dashboard.ts) passes them as they are.
 */
export interface DashboardFrame {
  readonly model: DashboardModel;
  /** Each issue's agent's last line (made safe by the follower; the view flattens it again). */
  readonly lastLines: ReadonlyMap<number, string>;
  /** The run's coordinator is alive, so keys can reach it. */
  readonly coordinatorAlive: boolean;
}

/** One line of a worker's recent events for the `enter` panel. */
export interface RecentLine {
  readonly at: string;
  readonly text: string;
}
