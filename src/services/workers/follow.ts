import path from "node:path";
import type { ReportOutcome } from "../../core/agents/worker-status.ts";
import { tailEvents, type EventLine, type EventsPosition } from "./events.ts";
import { instancePaths, type InstancePaths } from "./instance-files.ts";
import { supervisorAnswers } from "./supervisor-client.ts";

const OUTCOMES: readonly ReportOutcome[] = ["success", "failure", "crash", "oom", "blocked", "interrupted"];

export type FollowEnd =
  /** The agent exited; its report says how. */
  | { readonly kind: "exited"; readonly outcome: ReportOutcome | null; readonly exitCode: number | null; readonly signal: string | null }
  /** The supervisor stopped answering before the agent's exit was written: the worker is lost. */
  | { readonly kind: "lost" }
  /** The signal aborted (Ctrl-C): the agent goes on. */
  | { readonly kind: "stopped" };

/**
 * `up --follow`: streams the agent's events from `from` until its run ends
 * (the supervisor's `exited` event, whose text starts with the report's
 * outcome), the supervisor is gone, or the signal aborts.
 */
export async function followAgent(
  paths: InstancePaths,
  from: EventsPosition | "start",
  options: {
    readonly signal?: AbortSignal | undefined;
    readonly onLine: (line: EventLine) => void;
    /** Whether more can come; by default, whether the supervisor answers on the paths' w.sock. */
    readonly stillWriting?: (() => Promise<boolean>) | undefined;
  },
): Promise<FollowEnd> {
  const stillWriting = options.stillWriting ?? ((): Promise<boolean> => supervisorAnswers(paths));
  for await (const line of tailEvents(paths, { from, signal: options.signal, stillWriting })) {
    options.onLine(line);
    const event = line.event;
    if (event?.source === "supervisor" && event.type === "exited") {
      const data = (event.data ?? {}) as { code?: unknown; signal?: unknown };
      const word = (event.text ?? "").split(" ")[0] as ReportOutcome;
      return {
        kind: "exited",
        outcome: OUTCOMES.includes(word) ? word : null,
        exitCode: typeof data.code === "number" ? data.code : null,
        signal: typeof data.signal === "string" ? data.signal : null,
      };
    }
  }
  return options.signal?.aborted === true ? { kind: "stopped" } : { kind: "lost" };
}

/**
 * Follows the agent `up` just started, from the events it wrote on. A
 * worker on another host is followed from its container (follow-remote.ts),
 * in the project at `cwd`.
 */
export async function followStarted(
  started: { readonly instanceDir: string; readonly instance: string; readonly eventsFrom: EventsPosition | "start"; readonly remote: boolean },
  options: { readonly signal?: AbortSignal | undefined; readonly onLine: (line: EventLine) => void; readonly cwd: string; readonly env: NodeJS.ProcessEnv },
): Promise<FollowEnd> {
  if (started.remote) {
    const { followRemoteAgent } = await import("./follow-remote.ts");
    return followRemoteAgent({ ...options, instance: started.instance, from: started.eventsFrom });
  }
  return followAgent(instancePaths(path.dirname(started.instanceDir), started.instance), started.eventsFrom, options);
}

/** The exit status `up --follow` ends with: 0 when the agent succeeded, 1 otherwise (lost, failed, crashed, blocked…). */
export function followExitCode(end: FollowEnd): number {
  return end.kind === "exited" && end.outcome === "success" ? 0 : 1;
}
