import { lstatUntrusted, readUntrustedText, UNTRUSTED_LIMITS } from "../../adapters/fs/untrusted-dir.ts";
import { INSTANCE_FILES } from "../../core/messaging/layout.ts";
import { parseLockRecord } from "../../shared/pid-lock.ts";
import { MessagingError } from "../../adapters/messaging/errors.ts";
import { ExternalError } from "../../core/errors.ts";
import type { ContainerRuntime } from "../../core/instances/ports.ts";
import type { InstancePaths } from "./instance-files.ts";
import { askWorker } from "./supervisor-client.ts";

/** `not-running`: there was none; `shutdown`: it went when asked; `SIGTERM`/`SIGKILL`: it had to be killed. */
export type StopOutcome = "not-running" | "shutdown" | "SIGTERM" | "SIGKILL";

/** How long a supervisor that replied to `shutdown` may take to release its lock and exit. */
const RELEASE_WAIT_MS = 5_000;

/**
 * Stops an instance's supervisor and returns once it is gone, so a new one
 * can take the lock. A supervisor that answers is asked to `shutdown` (its
 * agent is stopped and reported); one that does not answer, or does not go,
 * is killed by the pid in supervisor.pid inside the container — checked
 * against the recorded start time, so a reused pid is never hit — with
 * SIGTERM, then SIGKILL after `graceMs`. An agent a killed supervisor leaves
 * behind is stopped by the next supervisor (it finds it in state.json).
 */
export async function stopSupervisor(
  runtime: ContainerRuntime,
  containerId: string,
  paths: InstancePaths,
  options: { readonly answering: boolean; readonly graceMs: number; readonly signal?: AbortSignal | undefined; readonly restart?: boolean },
): Promise<StopOutcome> {
  if (options.answering) {
    const asked = await askShutdown(paths, 2 * options.graceMs + 10_000, options.restart === true);
    if (asked && (await lockReleased(paths, RELEASE_WAIT_MS, options.signal))) return "shutdown";
  }
  const holder = await readLockHolder(paths);
  if (holder === null) return options.answering ? "shutdown" : "not-running";
  const ticks = Math.max(1, Math.ceil(options.graceMs / 50));
  const outcome = await runtime.exec(containerId, ["/bin/sh", "-c", KILL_SCRIPT, "cspace-stop", String(holder.pid), holder.startTicks ?? "", String(ticks)], { user: "0", signal: options.signal });
  const said = outcome.stdout.trim();
  if (outcome.exitCode !== 0) {
    throw new ExternalError(`the old supervisor (pid ${String(holder.pid)} in the container) did not stop after SIGKILL: ${said || outcome.stderr.trim()}`, {
      hint: "docker restart the container, then cspace restart again",
    });
  }
  if (said === "gone") return options.answering ? "shutdown" : "not-running";
  return said === "TERM" ? "SIGTERM" : "SIGKILL";
}

/**
 * Runs as root in the container: $1 pid, $2 start ticks (or empty), $3 how
 * many 50 ms ticks to wait after each signal. Prints `gone` (it was not
 * running), `TERM` or `KILL` (the signal it took); exits 1 if it survived.
 * A zombie counts as gone; so does a process with the pid but another start
 * time (the pid was reused).
 */
const KILL_SCRIPT = `
P=$1; T=$2; G=$3
alive() {
  s=$(cat /proc/$P/stat 2>/dev/null) || return 1
  r=\${s##*)}
  set -- $r
  [ "$1" = Z ] && return 1
  [ "$1" = X ] && return 1
  [ -z "$T" ] && return 0
  [ "\${20}" = "$T" ]
}
for sig in TERM KILL; do
  alive || { echo gone; exit 0; }
  kill -s $sig "$P" 2>/dev/null
  i=0
  while [ "$i" -lt "$G" ]; do
    alive || { echo $sig; exit 0; }
    sleep 0.05
    i=$((i + 1))
  done
done
alive && { echo alive; exit 1; }
echo KILL
`;

/**
 * Whether the supervisor took the shutdown. Anything else (none there, a broken or hostile answer) leaves the kill by pid.
 * `restart`: a new supervisor carries on the same attempt; the old one's report says so.
 */
async function askShutdown(paths: InstancePaths, timeoutMs: number, restart: boolean): Promise<boolean> {
  try {
    return (await askWorker(paths, "shutdown", restart ? { text: "restart" } : {}, timeoutMs)).ok;
  } catch (error) {
    if (error instanceof MessagingError) return false;
    throw error;
  }
}

/** Waits for supervisor.pid to disappear (the supervisor releases it as it exits). */
async function lockReleased(paths: InstancePaths, timeoutMs: number, signal: AbortSignal | undefined): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    if ((await lstatUntrusted(paths.dir, INSTANCE_FILES.supervisorLock).catch(() => null)) === null) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The pid and start ticks supervisor.pid records; null when there is no lock (or it is empty: nobody holds it). */
export async function readLockHolder(paths: InstancePaths): Promise<{ pid: number; startTicks: string | null } | null> {
  const text = await readUntrustedText(paths.dir, INSTANCE_FILES.supervisorLock, UNTRUSTED_LIMITS.record).catch(() => null);
  const record = text === null ? null : parseLockRecord(text);
  return record === null ? null : { pid: record.pid, startTicks: record.startTicks ?? null };
}
