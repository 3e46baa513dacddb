import { readFileSync } from "node:fs";

/**
 * The kernel's word on memory kills: the `oom_kill` counter of the
 * container's memory cgroup (v2 memory.events; v1 memory.oom_control on
 * kernels that have it). If it grew while the agent ran, a SIGKILL (or exit
 * 137) was the OOM killer, not a crash.
 */
export const CGROUP_MEMORY_EVENTS = ["/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"] as const;

export function oomKills(files: readonly string[]): number | null {
  for (const file of files) {
    try {
      const match = /^oom_kill (\d+)$/m.exec(readFileSync(file, "utf8"));
      if (match?.[1] !== undefined) return Number(match[1]);
    } catch {
      // Not this cgroup version.
    }
  }
  return null;
}
