import { BadReplyError } from "../../adapters/messaging/errors.ts";
import { presetNamed } from "../../core/agents/presets/index.ts";
import type { WorkerStatus } from "../../core/agents/worker-status.ts";
import { ExternalError, UserError } from "../../core/errors.ts";
import { containerNameFor, validateInstanceName } from "../../core/instances/names.ts";
import { openProject, type PortOverrides } from "../project.ts";
import { eventsEnd, type EventsPosition } from "./events.ts";
import { instancePaths } from "./instance-files.ts";
import { readLaunchedFile, requireLaunch } from "./launch-file.ts";
import { readRecordedStatus } from "./probe.ts";
import { stopSupervisor, type StopOutcome } from "./stop-supervisor.ts";
import { askStatus } from "./supervisor-client.ts";
import { withWorkerPaths } from "./worker-paths.ts";
import { startSupervisor } from "./up.ts";

export interface RestartOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly instance: string;
  /** Why, for the agent's first turn and the record; a default says it was the user. */
  readonly reason?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly ports?: PortOverrides | undefined;
  readonly startTimeoutMs?: number | undefined;
}

export interface RestartResult {
  readonly instance: string;
  readonly preset: string;
  /** How the old supervisor went: it was not running, it shut down when asked, or it was killed. */
  readonly stopped: StopOutcome;
  /** The session resumed, or null when the agent starts over with its original prompt and the reason. */
  readonly resumedSession: string | null;
  readonly reason: string;
  readonly status: WorkerStatus;
  readonly instanceDir: string;
  readonly eventsFrom: EventsPosition | "start";
}

export const DEFAULT_RESTART_REASON = "restarted by the user (cspace restart)";

/**
 * What the new supervisor is told: resume the session when the preset can
 * and a session id is known; otherwise start over (the supervisor then sends
 * the original prompt with the reason and a pointer at the work already done).
 */
export function restartLaunch(preset: { readonly resumable: boolean }, sessionId: string | null, reason: string): { readonly resumeSessionId: string | null; readonly restartReason: string } {
  return { resumeSessionId: preset.resumable && sessionId !== null ? sessionId : null, restartReason: reason };
}

/**
 * What the supervisors before the new one counted of the session it resumes:
 * the old supervisor's own count (its status, when it ran that session, less
 * what that status carried from the supervisors before it) plus what its own
 * launch said was counted before it. The new supervisor counts the
 * session's running total less this, so a turn whose process was stopped
 * before it printed a result is counted once, not lost (issue 13).
 */
export function resumedCost(
  resumed: string | null,
  old: { readonly sessionId: string | null; readonly costUsd: number | null } | null,
  launch: { readonly resumeSessionId: string | null; readonly resumedCostUsd: number | null; readonly priorCostUsd?: number | null },
): number | null {
  if (resumed === null) return null;
  const before = launch.resumeSessionId === resumed ? launch.resumedCostUsd : null;
  // The old status's cost starts from what it carried from the supervisors before it (launch.priorCostUsd): only the rest is its own count.
  const own = old?.sessionId === resumed && old.costUsd !== null ? Math.max(0, Math.round((old.costUsd - (launch.priorCostUsd ?? 0)) * 1e9) / 1e9) : null;
  return before === null && own === null ? (old === null ? null : 0) : (before ?? 0) + (own ?? 0);
}

/**
 * `cspace restart`: under the instance's lock, stops the old supervisor
 * (a `shutdown` request; if it does not go, its pid is killed inside the
 * container, TERM then KILL), waits until it is gone, then starts exactly one
 * new supervisor with the same preset, base and original prompt, resuming
 * the agent's session where the preset can.
 */
export async function restartAgent(options: RestartOptions): Promise<RestartResult> {
  const instance = validateInstanceName(options.instance);
  const reason = options.reason?.trim() === undefined || options.reason.trim() === "" ? DEFAULT_RESTART_REASON : options.reason.trim();
  const project = await openProject(options);
  const hostPaths = instancePaths(project.runDir, instance);
  const launch = await requireLaunch(hostPaths, instance);
  const preset = presetNamed(launch.preset);
  if (preset === null) throw new UserError(`launch.json of ${instance} names the preset "${launch.preset}", which this cspace does not know`, { hint: `cspace up ${instance} --agent <preset> after cspace down ${instance}` });
  const [runtime, locks] = await Promise.all([project.ports.runtime(), project.ports.locks()]);
  return locks.withLock(
    instance,
    async () => {
      const container = await runtime.inspect(containerNameFor(project.projectId, instance));
      if (container?.state !== "running") {
        throw new ExternalError(`instance ${instance} is ${container === null ? "gone (no container)" : `not running (container ${container.state})`}: its agent cannot be restarted`, {
          hint: container === null ? `cspace up ${instance} --prompt "<task>" makes it again` : `cspace warm ${instance} starts its container; then cspace restart ${instance}`,
        });
      }
      // A remote worker with no coordinator running: through a relay and a mirror of this command's own (its supervisor.pid, state.json).
      return withWorkerPaths(project, instance, { files: true }, async (paths, remote) => {
        // What answers wrongly is no supervisor to ask for a shutdown: it is killed by its pid like one that does not answer.
        const live = await askStatus(paths, remote === null ? 2_000 : 10_000).catch((error: unknown) => {
          if (error instanceof BadReplyError) return null;
          throw error;
        });
        const last = live ?? (await readRecordedStatus(paths));
        // The same attempt goes on: the old supervisor's report says so, and the coordinator does not start another.
        const stopped = await stopSupervisor(runtime, container.id, paths, { answering: live !== null, graceMs: launch.stopGraceMs, signal: options.signal, restart: true });
        const prompt = (await readLaunchedFile(paths, "prompt"))?.text;
        if (prompt === undefined) throw new ExternalError(`${instance}'s original prompt is gone (${paths.prompt})`, { hint: `cspace down ${instance}, then cspace up ${instance} --prompt "<task>"` });
        const decision = restartLaunch(preset, last?.sessionId ?? launch.resumeSessionId, reason);
        // Counted after the stop: the old agent may print its turn's result (and its supervisor count it) as it is stopped.
        const final = (await readRecordedStatus(paths)) ?? last;
        const counted = resumedCost(decision.resumeSessionId, final, launch);
        const eventsFrom = (await eventsEnd(paths)) ?? "start";
        const status = await startSupervisor(project, runtime, container, paths, {
          instance,
          preset,
          base: launch.base,
          baseSha: launch.baseSha,
          prompt,
          resumeSessionId: decision.resumeSessionId,
          restartReason: decision.restartReason,
          resumedCostUsd: counted,
          // The old supervisor's totals (its own, and those it carried): list and status go on from them, not from zero.
          prior: final === null ? null : { turns: final.turns, costUsd: final.costUsd },
          signal: options.signal,
          timeoutMs: options.startTimeoutMs ?? (remote === null ? 30_000 : 60_000),
          abandoned: () => locks.removalRequested(instance),
          filesInContainer: remote !== null,
        });
        return { instance, preset: preset.name, stopped, resumedSession: decision.resumeSessionId, reason, status, instanceDir: hostPaths.dir, eventsFrom };
      });
    },
    options.signal,
  );
}
