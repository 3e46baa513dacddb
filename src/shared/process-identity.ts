import { readFileSync } from "node:fs";
import os from "node:os";

/**
 * What tells a live lock holder from a dead one whose pid came back: a pid is
 * reused (after a kill -9, a reboot, a container restart, where pids start
 * over), so a lock that outlives its process could otherwise name a stranger
 * that happens to have the pid now. Linux answers exactly through /proc (the
 * boot id, and the kernel's start time of the pid); elsewhere the fallbacks
 * are the pid alone and "taken before this boot".
 *
 * src/shared is used by the host and by the worker bundle (Node 18): Node's
 * built-ins only (lint enforces it).
 */

/** This boot's id (Linux), undefined where the platform has none. */
export function bootId(): string | undefined {
  return readProc("/proc/sys/kernel/random/boot_id")?.trim();
}

/** When this machine booted, in ms since the epoch (from its uptime). */
export function bootedAt(): number {
  return Date.now() - os.uptime() * 1000;
}

export type ProcessState = "running" | "gone" | "unknown";

export interface ProcessProbe {
  readonly state: ProcessState;
  /** The kernel's start time of the process (Linux: clock ticks since boot, field 22 of /proc/<pid>/stat), when known. */
  readonly startTicks?: string | undefined;
}

/** Whether `pid` is a live process on this machine, and its start time where the platform says. */
export function probeProcess(pid: number): ProcessProbe {
  try {
    process.kill(pid, 0);
  } catch (error) {
    const code = typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
    // EPERM: it exists and belongs to someone else.
    if (code !== "EPERM") return { state: code === "ESRCH" ? "gone" : "unknown" };
  }
  const stat = readProc(`/proc/${String(pid)}/stat`);
  if (stat === undefined) return { state: "running" };
  // `pid (comm) state … starttime`: comm may hold spaces and parentheses, so fields count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // A zombie has died and waits for its parent to collect it: it holds nothing.
  if (fields[0] === "Z" || fields[0] === "X") return { state: "gone" };
  return { state: "running", startTicks: fields[19] };
}

/** Whether that very process still runs (not merely some process with its pid): its start time must match where both are known. */
export function isSameProcessAlive(pid: number, startTicks: string | undefined): boolean {
  const probe = probeProcess(pid);
  if (probe.state === "gone") return false;
  return startTicks === undefined || probe.startTicks === undefined || probe.startTicks === startTicks;
}

function readProc(file: string): string | undefined {
  if (process.platform !== "linux") return undefined;
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}
