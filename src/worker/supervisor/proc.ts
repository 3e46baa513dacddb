import { readFileSync } from "node:fs";

/**
 * Process identity inside the container. A pid alone is not enough after a
 * container restart (pids start over while the instance directory stays), so
 * a process is named by its pid and its start time in clock ticks since boot
 * (field 22 of /proc/<pid>/stat), where /proc exists.
 */

export interface ProcessIdentity {
  readonly pid: number;
  /** Null where /proc is not available (macOS hosts running the tests): then the pid alone is trusted. */
  readonly startTicks: number | null;
}

/** Fields 3 onwards of /proc/<pid>/stat, or null without /proc. */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

export function startTicksOf(pid: number): number | null {
  const ticks = Number(statFields(pid)?.[19]);
  return Number.isFinite(ticks) ? ticks : null;
}

export function identityOf(pid: number): ProcessIdentity {
  return { pid, startTicks: startTicksOf(pid) };
}

/** Whether that very process still runs (not merely some process with its pid). */
export function isAlive(identity: ProcessIdentity): boolean {
  try {
    process.kill(identity.pid, 0);
  } catch (error) {
    // EPERM: it exists and belongs to someone else.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const fields = statFields(identity.pid);
  if (fields === null) return true;
  // A zombie (exited, not yet reaped: an orphan whose new parent is slow to reap) answers kill(0) but runs no more.
  if (fields[0] === "Z" || fields[0] === "X") return false;
  if (identity.startTicks === null) return true;
  return Number(fields[19]) === identity.startTicks;
}

/** Signals the agent's whole process group (it was spawned detached, as a group leader), else the process alone. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}
