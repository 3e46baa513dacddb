import { isSameProcessAlive, probeProcess } from "../../shared/process-identity.ts";

/**
 * Process identity inside the container. A pid alone is not enough after a
 * container restart (pids start over while the instance directory stays), so
 * a process is named by its pid and its start time in clock ticks since boot
 * (field 22 of /proc/<pid>/stat), where /proc exists: src/shared/process-identity.ts,
 * which the host's locks use too.
 */

export interface ProcessIdentity {
  readonly pid: number;
  /** Null where /proc is not available (macOS hosts running the tests): then the pid alone is trusted. */
  readonly startTicks: number | null;
}

export function identityOf(pid: number): ProcessIdentity {
  const ticks = Number(probeProcess(pid).startTicks);
  return { pid, startTicks: Number.isFinite(ticks) ? ticks : null };
}

/** Whether that very process still runs (not merely some process with its pid; a zombie runs no more). */
export function isAlive(identity: ProcessIdentity): boolean {
  return isSameProcessAlive(identity.pid, identity.startTicks === null ? undefined : String(identity.startTicks));
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
