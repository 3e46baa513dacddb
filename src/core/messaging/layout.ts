/**
 * What lives in an instance's own run directory, `<run dir>/<instance>/` on
 * the host, mounted at /run/cspace in that instance's container and nowhere
 * else (identity by channel: a worker sees only its own sockets). Names are
 * short so socket paths fit `sun_path` (108 bytes on Linux, 104 on macOS).
 */

/** Where a container sees its own instance directory. */
export const INSTANCE_DIR_IN_CONTAINER = "/run/cspace";

export const INSTANCE_FILES = {
  /** The supervisor listens here (worker commands). */
  workerSocket: "w.sock",
  /** The coordinator (or a test) listens here, for this instance alone (coordinator commands). */
  coordinatorSocket: "c.sock",
  /** What the supervisor runs: preset, prompt file, branch, base, model, environment names (written by `cspace up`). */
  launch: "launch.json",
  /** The rendered prompt the agent starts with. */
  prompt: "prompt.md",
  /** The agent's and supervisor's events, one JSON object per line; rotated to events.1.ndjson. */
  events: "events.ndjson",
  eventsRotated: "events.1.ndjson",
  /** The supervisor's latest status, rewritten atomically on every change: what `list` shows when it cannot ask. */
  state: "state.json",
  /** Held (O_EXCL, with the supervisor's pid) while a supervisor runs: exactly one per instance. */
  supervisorLock: "supervisor.pid",
  /** Written by the in-container `cspace blocked "<reason>"`: the agent cannot go on; its report's outcome is `blocked`. */
  blocked: "blocked.json",
  /** The supervisor's own diagnostics (stderr). */
  supervisorLog: "supervisor.log",
  /** Reports written before they are sent: `<id>.json`; moved to outbox/delivered/ once acknowledged. */
  outbox: "outbox",
  delivered: "outbox/delivered",
} as const;

/**
 * `<run dir>/_host/<instance>/`: what only the host needs of an instance (the
 * coordinator's attempt mark, the host's copies of launch.json and prompt.md).
 * No container mounts it, so nothing there can have been planted by a worker.
 * Not a valid instance name: those start with a letter or a digit.
 */
export const HOST_ONLY_DIR = "_host";

/** The host's own files in it. */
export const HOST_FILES = {
  attempt: "coordinator-attempt.json",
  launch: "launch.json",
  prompt: "prompt.md",
} as const;

/** The longest file name above that is a socket: the sun_path check adds it to `<run dir>/<instance>/`. */
export const LONGEST_SOCKET_NAME = Math.max(INSTANCE_FILES.workerSocket.length, INSTANCE_FILES.coordinatorSocket.length);

/** Where the worker bundle (supervisor, in-container `cspace`, scripted agent) is copied in each container. */
export const WORKER_BUNDLE_DIR = "/opt/cspace";
