import os from "node:os";
import type { CoordinatorHolder } from "../../core/coordinator-store/port.ts";
import { openProject } from "../project.ts";

/**
 * Re-attaching a view to a coordinator that runs already (`cspace coordinate
 * --resume` on a terminal while one holds the lock): who it is, and stopping
 * it as Ctrl-C would, which only this host can do.
 */

export interface LiveCoordinator extends CoordinatorHolder {
  /** It runs on this host, so a signal can reach it. */
  readonly local: boolean;
}

export async function liveCoordinator(options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<LiveCoordinator | null> {
  const project = await openProject(options);
  const holder = await (await project.ports.coordinatorLock()).holder();
  return holder === undefined ? null : { ...holder, local: holder.host === os.hostname() };
}

/** How often the lock is looked at while a stopped coordinator winds down. */
const POLL_MS = 200;

/**
 * SIGINT to the coordinator (it stops between steps and releases its lock, as
 * on Ctrl-C), then waits until the lock is free or someone else's.
 */
export async function stopCoordinator(options: { cwd: string; env: NodeJS.ProcessEnv }, holder: LiveCoordinator): Promise<void> {
  process.kill(holder.pid, "SIGINT");
  const lock = await (await openProject(options)).ports.coordinatorLock();
  for (;;) {
    const now = await lock.holder();
    if (now?.pid !== holder.pid || now.startedAt !== holder.startedAt) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
