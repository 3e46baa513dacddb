import path from "node:path";
import { HOST_ONLY_DIR, INSTANCE_FILES } from "../../core/messaging/layout.ts";

/**
 * The host paths of one instance's own directory (see core/messaging/layout.ts).
 * Its container can write `dir`: the host touches what is in it only through
 * adapters/fs/untrusted-dir.ts. `hostDir` is the host's alone.
 */
export interface InstancePaths {
  readonly dir: string;
  /** `<run dir>/_host/<instance>/`: what only the host needs (the attempt mark, its own copies of launch.json and prompt.md); no container sees it. */
  readonly hostDir: string;
  readonly workerSocket: string;
  readonly coordinatorSocket: string;
  readonly launch: string;
  readonly prompt: string;
  readonly events: string;
  readonly eventsRotated: string;
  readonly state: string;
  readonly supervisorLock: string;
  readonly supervisorLog: string;
  readonly outbox: string;
  readonly delivered: string;
}

export function instancePaths(runDir: string, instance: string): InstancePaths {
  const dir = path.join(runDir, instance);
  const at = (name: string): string => path.join(dir, name);
  return {
    dir,
    hostDir: hostDirOf(runDir, instance),
    workerSocket: at(INSTANCE_FILES.workerSocket),
    coordinatorSocket: at(INSTANCE_FILES.coordinatorSocket),
    launch: at(INSTANCE_FILES.launch),
    prompt: at(INSTANCE_FILES.prompt),
    events: at(INSTANCE_FILES.events),
    eventsRotated: at(INSTANCE_FILES.eventsRotated),
    state: at(INSTANCE_FILES.state),
    supervisorLock: at(INSTANCE_FILES.supervisorLock),
    supervisorLog: at(INSTANCE_FILES.supervisorLog),
    outbox: at(INSTANCE_FILES.outbox),
    delivered: at(INSTANCE_FILES.delivered),
  };
}

export function hostDirOf(runDir: string, instance: string): string {
  return path.join(runDir, HOST_ONLY_DIR, instance);
}
