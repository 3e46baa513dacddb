import { presetNamed } from "../../../core/agents/presets/index.ts";
import type { LaunchRequest, WorkerOutcome } from "../../../core/coordinator-runtime/ports.ts";
import { BadReplyError, MessagingError, RequestTimeoutError } from "../../../adapters/messaging/errors.ts";
import type { WorkerStatus } from "../../../core/agents/worker-status.ts";
import { CspaceError } from "../../../core/errors.ts";
import { HOST_FILES } from "../../../core/messaging/layout.ts";
import { askSupervisor, askWorker } from "../../workers/supervisor-client.ts";
import { readHostFile, removeHostFile, writeHostFile } from "../../workers/host-files.ts";
import type { InstancePaths } from "../../workers/instance-files.ts";
import { readLaunch } from "../../workers/launch-file.ts";
import { stopSupervisor } from "../../workers/stop-supervisor.ts";
import { startSupervisor } from "../../workers/up.ts";
import { bringBaseInto, bringCheckoutTo } from "./checkout.ts";
import { containerOf, pathsOf, workerOf, type PoolContext } from "./context.ts";

/**
 * Which attempt the coordinator last started in an instance (HOST_FILES.attempt
 * in the host-only directory: the worker must not forge it, nor plant a link
 * the host would write through), written once the agent is started (or the
 * prompt sent): a launch repeated after a crash finds it and adopts that agent
 * instead of starting another.
 */
interface AttemptMark {
  /** Absent in marks written before runs were named: such a mark is adopted by no launch. */
  readonly runId: string | null;
  readonly issue: number;
  readonly attempt: number;
  readonly at: string;
}

const SUPERVISOR_START_MS = 60_000;
const STATUS_MS = 2_000;

/** Starts attempt `request.attempt` in its instance (see WorkerPool.launch). */
export async function launchAgent(context: PoolContext, request: LaunchRequest): Promise<WorkerOutcome> {
  const { project } = context;
  const paths = pathsOf(context, request.instance);
  const placed = await workerOf(context, request.instance);
  if (placed.remote !== null) {
    // The host's w.sock and c.sock are the relay's for a remote worker: served before the supervisor is asked or started.
    const attached = await context.remote.attach(placed.remote).then(
      () => null,
      (error: unknown) => (error instanceof CspaceError ? error.message : null),
    );
    if (attached !== null) return { ok: false, error: `cannot reach ${request.instance} on host ${placed.remote.host}: ${attached}` };
    // Its origin is its host's mirror, which holds what was pushed there: the base as the forge has it now goes first, so a
    // rebase (or a fresh start) the prompt asks for sees the base the coordinator sees, as a local checkout's origin (the store) does.
    const head = (await (await project.ports.branches()).fetch([request.base])).get(request.base) ?? null;
    if (head !== null) await context.remote.pushRefs(placed.remote, [{ name: request.base, sha: head }]);
  }
  const mark = await readMark(paths);
  // The same run's same attempt only: a later run numbers its attempts from 1 again, and an earlier run's mark must not
  // pass for its launch (the agent would never start, and the attempt would be lost for want of a report).
  if (mark !== null && mark.runId === request.runId && mark.issue === request.issue && mark.attempt === request.attempt) return { ok: true, adopted: true };
  const live = await liveSupervisor(paths);
  // Whatever answers wrongly on w.sock is a faulty (or hostile) worker: its attempt fails with the reason, nothing is started.
  if (typeof live === "object" && live !== null && "broken" in live) return { ok: false, error: live.broken };
  // Slow is not absent: a second supervisor would stop at the first one's lock, the first would answer for it, and the prompt would be lost.
  if (live === "slow") return { ok: false, error: `the supervisor of ${request.instance} did not answer within ${String(STATUS_MS / 1000)} s` };
  // The coordinator launches only once no attempt is open: an agent at work is this attempt's, started just before a crash.
  if (live !== null && (live.state === "working" || live.state === "starting")) {
    await writeMark(paths, request);
    return { ok: true, adopted: true };
  }
  const preset = presetNamed(project.config.agent.preset);
  if (preset === null) return { ok: false, error: `"${project.config.agent.preset}" is not an agent preset` };
  const locks = await project.ports.locks();
  return locks.withLock(request.instance, async () => {
    const container = await containerOf(context, request.instance);
    if (container?.state !== "running") return { ok: false, error: `instance ${request.instance} is ${container === null ? "gone" : `not running (${container.state})`}` };
    if (request.headSha !== null) {
      const moved = await bringCheckoutTo(context, request.instance, container, request.branch, request.headSha, { discard: request.fresh === true });
      if (!moved.ok) return moved;
    }
    if (request.baseSha !== null) {
      const based = await bringBaseInto(context, request.instance, container, request.base, request.baseSha);
      if (!based.ok) return based;
    }
    // After a reset the supervisor of the discarded work (idle: its agent stopped) goes, so a new one starts the agent
    // without that work's session and counts its commits from the new base.
    const supervisor = live !== null && request.fresh === true ? await stopIdleSupervisor(context, paths, container.id) : live;
    // Marked before the agent starts: a crash in between leaves an attempt adopted with no agent, which the probe calls lost
    // (and the next attempt starts); marked after, the repeated launch would find that agent finished, reset its checkout and start it again.
    await writeMark(paths, request);
    try {
      if (supervisor !== null) {
        // The supervisor outlives its agent: the prompt as a message starts the next run in the same session where the preset keeps one.
        await askSupervisor(paths, request.instance, "send", { text: request.prompt, from: "coordinator" });
      } else {
        const whyNotStarted = await startSupervisor(project, placed.runtime, container, paths, {
          instance: request.instance,
          preset,
          base: request.base,
          baseSha: request.baseSha,
          prompt: request.prompt,
          resumeSessionId: null,
          restartReason: null,
          signal: undefined,
          timeoutMs: SUPERVISOR_START_MS,
          abandoned: () => locks.removalRequested(request.instance),
          filesInContainer: placed.remote !== null,
        }).then(
          () => null,
          // The agent could not be started (no executable and nothing to install it with, a supervisor that did not
          // come up): an outcome the coordinator counts, not an action to repeat every few seconds for ever.
          (error: unknown) => {
            if (!(error instanceof CspaceError)) throw error;
            return error.hint === undefined ? error.message : `${error.message} (${error.hint})`;
          },
        );
        if (whyNotStarted !== null) {
          await removeHostFile(paths, HOST_FILES.attempt);
          return { ok: false, error: whyNotStarted };
        }
      }
    } catch (error) {
      await removeHostFile(paths, HOST_FILES.attempt);
      if (error instanceof BadReplyError) return { ok: false, error: error.message };
      throw error;
    }
    return { ok: true };
  });
}

/** Stops the instance's supervisor (its agent is not running); null: none is left. */
async function stopIdleSupervisor(context: PoolContext, paths: InstancePaths, containerId: string): Promise<null> {
  const runtime = await context.project.ports.runtime();
  const launch = await readLaunch(paths).catch(() => null);
  await stopSupervisor(runtime, containerId, paths, { answering: true, graceMs: launch?.stopGraceMs ?? 5_000 });
  return null;
}

/** The supervisor's status; null when none listens; "slow" when one is there but did not answer in time; why, when what answers breaks the protocol. */
async function liveSupervisor(paths: InstancePaths): Promise<WorkerStatus | null | "slow" | { readonly broken: string }> {
  try {
    const answer = await askWorker(paths, "status", {}, STATUS_MS);
    return answer.ok ? answer.status : null;
  } catch (error) {
    if (error instanceof BadReplyError) return { broken: error.message };
    if (error instanceof RequestTimeoutError) return "slow";
    // Nothing listens (or the socket is gone): no supervisor, as askStatus says.
    if (error instanceof MessagingError) return null;
    throw error;
  }
}

async function readMark(paths: InstancePaths): Promise<AttemptMark | null> {
  try {
    const text = await readHostFile(paths, HOST_FILES.attempt);
    if (text === null) return null;
    const value = JSON.parse(text) as Partial<AttemptMark>;
    if (typeof value.issue !== "number" || typeof value.attempt !== "number") return null;
    return { runId: typeof value.runId === "string" ? value.runId : null, issue: value.issue, attempt: value.attempt, at: String(value.at) };
  } catch {
    return null;
  }
}

async function writeMark(paths: InstancePaths, request: LaunchRequest): Promise<void> {
  const mark: AttemptMark = { runId: request.runId, issue: request.issue, attempt: request.attempt, at: new Date().toISOString() };
  await writeHostFile(paths, HOST_FILES.attempt, `${JSON.stringify(mark)}\n`);
}
