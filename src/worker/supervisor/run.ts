import { appendFileSync, readFileSync } from "node:fs";
import path from "node:path";
import type { AgentPreset } from "../../core/agents/preset.ts";
import { INSTANCE_FILES } from "../../core/messaging/layout.ts";
import { parseLaunch, type Launch } from "../../core/messaging/launch.ts";
import { WORKER_COMMANDS } from "../../core/messaging/protocol.ts";
import { serveNdjson, type NdjsonServer } from "../../adapters/messaging/server.ts";
import { messageOf } from "../../adapters/messaging/socket-file.ts";
import { EventsLog } from "./events-log.ts";
import { acquireLock, LockHeldError, type SupervisorLock } from "./lock.ts";
import { CGROUP_MEMORY_EVENTS } from "./oom.ts";
import { Outbox } from "./outbox.ts";
import { isAlive } from "./proc.ts";
import { recordedAgent } from "./state-file.ts";
import { Supervisor } from "./supervisor.ts";
import { firstPrompt } from "./prompt.ts";

/** Exit codes of `worker.cjs supervise`: 0 after a shutdown, 2 for a bad launch.json, 3 when another supervisor holds the instance, 4 for a fault. */
export const SupervisorExit = { ok: 0, badLaunch: 2, alreadyRunning: 3, fault: 4 } as const;

export interface RunSupervisorOptions {
  /** The instance directory (/run/cspace in a container). */
  readonly dir: string;
  /** Resolves launch.json's preset name. */
  readonly presetFor: (name: string) => AgentPreset;
  readonly env?: NodeJS.ProcessEnv;
  /** The memory cgroup files to read the OOM counter from (tests point it at a file they control). */
  readonly oomFiles?: readonly string[];
  /** How long a silent connection on w.sock stays open. */
  readonly idleTimeoutMs?: number;
  /** Where a message for the operator goes (stderr). */
  readonly say?: (message: string) => void;
}

/**
 * `node /opt/cspace/worker.cjs supervise <dir>`: takes the instance's one
 * supervisor lock, listens on w.sock, runs the agent, and stays until told
 * to shut down (the `shutdown` command, or SIGTERM/SIGINT/SIGHUP). Resolves
 * with the process's exit code.
 */
export async function runSupervisor(options: RunSupervisorOptions): Promise<number> {
  const dir = options.dir;
  const file = (name: string): string => path.join(dir, name);
  const say = options.say ?? ((message: string) => { process.stderr.write(`${message}\n`); });
  const log = (message: string): void => {
    try {
      appendFileSync(file(INSTANCE_FILES.supervisorLog), `${new Date().toISOString()} [${String(process.pid)}] ${message}\n`, { mode: 0o644 });
    } catch {
      // Nowhere else to write: the detached supervisor has no terminal.
    }
  };
  const fail = (code: number, message: string): number => {
    log(message);
    say(`cspace supervisor: ${message}`);
    return code;
  };

  const launch = readLaunch(file(INSTANCE_FILES.launch));
  if (typeof launch === "string") return fail(SupervisorExit.badLaunch, launch);
  let preset: AgentPreset;
  try {
    preset = options.presetFor(launch.preset);
  } catch (error) {
    return fail(SupervisorExit.badLaunch, `launch.json names the preset ${JSON.stringify(launch.preset)}: ${messageOf(error)}`);
  }

  let lock: SupervisorLock;
  try {
    lock = acquireLock(file(INSTANCE_FILES.supervisorLock));
  } catch (error) {
    if (error instanceof LockHeldError) {
      return fail(SupervisorExit.alreadyRunning, `${error.message}; stop it first (cspace restart ${launch.instance} does both)`);
    }
    return fail(SupervisorExit.fault, `cannot take ${INSTANCE_FILES.supervisorLock}: ${messageOf(error)}`);
  }

  // Held in an object: assigned inside the try, read in finally.
  const open: { server: NdjsonServer | null; events: EventsLog | null; outbox: Outbox | null } = { server: null, events: null, outbox: null };
  const signals = ["SIGTERM", "SIGINT", "SIGHUP"] as const;
  let onSignal: (() => void) | null = null;
  try {
    log(`supervisor starting for ${launch.instance} (preset ${preset.name})`);
    for (const why of lock.broken) log(`broke a stale ${INSTANCE_FILES.supervisorLock}: ${why}`);
    await stopLeftoverAgent(file(INSTANCE_FILES.state), launch.stopGraceMs, log);
    const prompt = firstPrompt(readFileSync(launch.promptFile, "utf8"), launch, preset.resumable);
    const events = new EventsLog(file(INSTANCE_FILES.events), file(INSTANCE_FILES.eventsRotated), launch.eventsMaxBytes);
    open.events = events;
    const outbox = new Outbox({
      outboxDir: file(INSTANCE_FILES.outbox),
      deliveredDir: file(INSTANCE_FILES.delivered),
      coordinatorSocket: file(INSTANCE_FILES.coordinatorSocket),
      instance: launch.instance,
      retryMaxMs: launch.reportRetryMaxMs,
      onDelivered: (id) => { events.append({ ts: new Date().toISOString(), source: "supervisor", type: "report-delivered", text: id }); },
      onDiagnostic: log,
    });
    open.outbox = outbox;
    const supervisor = new Supervisor({
      launch,
      preset,
      prompt,
      events,
      outbox,
      stateFile: file(INSTANCE_FILES.state),
      blockedFile: file(INSTANCE_FILES.blocked),
      env: { ...(options.env ?? process.env), CSPACE_INSTANCE: launch.instance, CSPACE_INSTANCE_DIR: dir },
      oomFiles: options.oomFiles ?? CGROUP_MEMORY_EVENTS,
      log,
    });
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => { finish = resolve; });
    open.server = await serveNdjson(file(INSTANCE_FILES.workerSocket), (request) => {
      const reply = supervisor.handle(request);
      // Ends after the shutdown reply is written: the server writes it in the same microtask chain, before setImmediate.
      if (request.cmd === "shutdown") void Promise.resolve(reply).then(() => { setImmediate(finish); });
      return reply;
    }, { accepted: WORKER_COMMANDS, onDiagnostic: log, ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }) });
    const stop = (): void => { void supervisor.shutdown().then(finish); };
    onSignal = stop;
    for (const signal of signals) process.on(signal, stop);
    outbox.watchForCoordinator();
    void outbox.nudge();
    supervisor.start();
    await finished;
    log("supervisor stopped");
    return SupervisorExit.ok;
  } catch (error) {
    return fail(SupervisorExit.fault, `supervisor failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    if (onSignal !== null) for (const signal of signals) process.off(signal, onSignal);
    await open.server?.close();
    open.outbox?.stop();
    open.events?.close();
    lock.release();
  }
}

function readLaunch(launchFile: string): Launch | string {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(launchFile, "utf8"));
  } catch (error) {
    return `cannot read ${launchFile}: ${messageOf(error)}`;
  }
  const parsed = parseLaunch(value);
  return parsed.ok ? parsed.launch : `${launchFile} is not valid: ${parsed.problems.join("; ")}`;
}

/** An agent a killed supervisor left running would work beside the new one in the same checkout: stop it first. */
async function stopLeftoverAgent(stateFile: string, graceMs: number, log: (message: string) => void): Promise<void> {
  const agent = recordedAgent(stateFile);
  if (agent === null || !isAlive(agent)) return;
  log(`stopping agent pid ${String(agent.pid)} left running by a previous supervisor`);
  for (const signal of ["SIGTERM", "SIGKILL"] as const) {
    try {
      process.kill(-agent.pid, signal);
    } catch {
      try {
        process.kill(agent.pid, signal);
      } catch {
        return;
      }
    }
    const deadline = Date.now() + graceMs;
    // Not our child: no exit event to wait on, so its liveness is checked until the deadline.
    while (Date.now() < deadline) {
      if (!isAlive(agent)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
