import { UserError } from "../../core/errors.ts";
import { outdatedReasons } from "../../core/instances/outdated.ts";
import type { ContainerInfo, ContainerRuntime, WorkspaceStore } from "../../core/instances/ports.ts";
import { instancePaths } from "../workers/instance-files.ts";
import { readLockHolder } from "../workers/stop-supervisor.ts";

/**
 * A worker made by an older cspace (core/instances/outdated.ts) is never
 * kept as it is: the next `warm` (the coordinator's included) makes its
 * container again, hardened, and moves its checkout onto the store's
 * read-only mount, keeping everything an agent did there (the checkout, its
 * commits, the instance directory), as a warm's own retries do. Only an
 * agent at work in it would be lost: then it is refused, saying what to run.
 */
export async function outdatedWorker(workspaces: WorkspaceStore, existing: ContainerInfo | null, instance: string): Promise<string[]> {
  if (existing === null) return [];
  return outdatedReasons({ labels: existing.labels, sharedObjectFiles: await workspaces.sharedObjectFiles(instance) });
}

/** Throws a UserError when an agent's supervisor runs in the outdated worker: remaking its container would kill it mid-work. */
export async function refuseMigrationWhileAgentRuns(runtime: ContainerRuntime, runDir: string, existing: ContainerInfo, instance: string, reasons: readonly string[]): Promise<void> {
  if (existing.state !== "running") return;
  const holder = await readLockHolder(instancePaths(runDir, instance));
  if (holder === null) return;
  // Asked inside the container, where the pid means something; the start time tells the supervisor from a reused pid.
  const probe = await runtime.exec(existing.id, ["/bin/sh", "-c", 'test "$(cut -d" " -f22 /proc/$1/stat 2>/dev/null)" = "${2:-$(cut -d" " -f22 /proc/$1/stat 2>/dev/null)}" && test -e /proc/$1', "probe", String(holder.pid), holder.startTicks ?? ""], { user: "0" });
  if (probe.exitCode !== 0) return;
  throw new UserError(`instance "${instance}" is outdated (${reasons.join("; ")}), and an agent is at work in it (supervisor pid ${String(holder.pid)} in the container): making it again now would stop that agent`, {
    hint: `let the agent finish (or stop it: cspace down ${instance} removes the instance and its work), then run \`cspace warm ${instance}\`, which makes it again and keeps its checkout`,
  });
}
