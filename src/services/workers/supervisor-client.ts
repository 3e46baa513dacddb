import path from "node:path";
import { readUntrustedTail } from "../../adapters/fs/untrusted-dir.ts";
import { INSTANCE_FILES } from "../../core/messaging/layout.ts";
import { newRequestId, request } from "../../adapters/messaging/client.ts";
import { BadReplyError, MessagingError, RequestTimeoutError } from "../../adapters/messaging/errors.ts";
import type { WorkerStatus } from "../../core/agents/worker-status.ts";
import { ExternalError } from "../../core/errors.ts";
import type { WorkerCommand } from "../../core/messaging/protocol.ts";
import { checkWorkerReply, type WorkerAnswer } from "../../core/messaging/worker-replies.ts";
import type { InstancePaths } from "./instance-files.ts";

/**
 * The host's one way to dial a worker's `w.sock`. The socket is in the
 * instance directory, which the container can write, so whoever answers may
 * be a prompt-injected agent that killed its supervisor and listens in its
 * place: every reply is bounded (MAX_WORKER_REPLY_BYTES), timed out, and
 * checked against its command's schema (core/messaging/worker-replies.ts)
 * before a field of it is used. A violation is a BadReplyError naming the
 * instance, never a crash, a hang or a wrong outcome.
 */

/** A status is under 2 KiB; a shutdown lists undelivered messages. A reply past this is a broken or hostile peer. */
export const MAX_WORKER_REPLY_BYTES = 1024 * 1024;

const BROKEN_HINT = (instance: string): string =>
  `its container may be running something other than cspace's supervisor (a prompt-injected agent can replace it): cspace logs ${instance} shows what it did; cspace restart ${instance} starts a new supervisor, cspace down ${instance} removes the instance`;

/** Sends one command and returns its checked answer (`ok: false` is an answer too). Throws MessagingError subclasses, each naming the instance. */
export async function askWorker<C extends WorkerCommand>(
  paths: InstancePaths,
  cmd: C,
  fields: { readonly text?: string; readonly from?: string },
  timeoutMs: number,
): Promise<WorkerAnswer<C>> {
  const instance = instanceOf(paths);
  let reply: unknown;
  try {
    reply = await request(paths.workerSocket, { v: 1, id: newRequestId(), cmd, from: "host", ...fields }, { timeoutMs, maxReplyBytes: MAX_WORKER_REPLY_BYTES });
  } catch (error) {
    throw error instanceof MessagingError ? naming(instance, cmd, error) : error;
  }
  const checked = checkWorkerReply(cmd, reply);
  if (!checked.ok) {
    throw new BadReplyError(paths.workerSocket, `the supervisor of instance "${instance}" answered ${cmd} with a reply cspace does not accept: ${checked.message}`, { hint: BROKEN_HINT(instance) });
  }
  return checked.value;
}

/** The instance a directory belongs to: `<run dir>/<instance>/`. */
function instanceOf(paths: InstancePaths): string {
  return path.basename(paths.dir);
}

/** The same failure, said about the instance rather than its socket's path (the path stays in the cause). */
function naming(instance: string, cmd: WorkerCommand, error: MessagingError): MessagingError {
  const where = `instance "${instance}"`;
  if (error instanceof BadReplyError) {
    return new BadReplyError(error.socketPath, `the supervisor of ${where} broke the protocol answering ${cmd}: ${error.message}`, { hint: BROKEN_HINT(instance), cause: error });
  }
  if (error instanceof RequestTimeoutError) {
    return new RequestTimeoutError(error.socketPath, `the supervisor of ${where} did not answer ${cmd} in time: ${error.message}`, { hint: BROKEN_HINT(instance), cause: error });
  }
  return error;
}

/** The supervisor's answer to `status`; null when nobody answers on its socket (none listens, it hung up, or it was too slow). Throws BadReplyError for an answer cspace does not accept. */
export async function askStatus(paths: InstancePaths, timeoutMs = 2_000): Promise<WorkerStatus | null> {
  try {
    const answer = await askWorker(paths, "status", {}, timeoutMs);
    return answer.ok ? answer.status : null;
  } catch (error) {
    if (error instanceof MessagingError && !(error instanceof BadReplyError)) return null;
    throw error;
  }
}

/** Whether a supervisor answers `status` as one should: what `logs -f` asks to know whether more may come. A broken one does not. */
export async function supervisorAnswers(paths: InstancePaths, timeoutMs = 1_000): Promise<boolean> {
  try {
    return (await askStatus(paths, timeoutMs)) !== null;
  } catch (error) {
    if (error instanceof MessagingError) return false;
    throw error;
  }
}

/** Sends one worker command; an error reply becomes an ExternalError carrying its code and message. */
export async function askSupervisor<C extends WorkerCommand>(
  paths: InstancePaths,
  instance: string,
  cmd: C,
  fields: { readonly text?: string; readonly from?: string } = {},
  timeoutMs = 5_000,
): Promise<Extract<WorkerAnswer<C>, { ok: true }>> {
  const answer = await askWorker(paths, cmd, fields, timeoutMs);
  if (!answer.ok) throw new ExternalError(`${instance}'s supervisor refused ${cmd}: ${answer.error.message} (${answer.error.code})`);
  return answer as Extract<WorkerAnswer<C>, { ok: true }>;
}

/**
 * Waits until a supervisor just started answers `status`. It is started
 * detached, so its failures show only in supervisor.log: when it does not
 * come up in time, that log's tail is the error. Whatever answers with a
 * reply cspace does not accept is not the supervisor just started: that
 * fails at once.
 */
export async function waitForSupervisor(
  paths: InstancePaths,
  instance: string,
  options: {
    timeoutMs: number;
    signal?: AbortSignal | undefined;
    /** Asked between attempts: true stops the wait with giveUpError(). */
    giveUp?: (() => Promise<boolean>) | undefined;
    giveUpError?: (() => Error) | undefined;
  },
): Promise<WorkerStatus> {
  const deadline = Date.now() + options.timeoutMs;
  for (let wait = 20; ; wait = Math.min(wait * 2, 250)) {
    options.signal?.throwIfAborted();
    if (options.giveUp !== undefined && (await options.giveUp())) throw options.giveUpError?.() ?? new ExternalError(`stopped waiting for the supervisor of ${instance}`);
    const status = await askStatus(paths, 1_000);
    if (status !== null) return status;
    if (Date.now() > deadline) {
      const log = (await readUntrustedTail(paths.dir, INSTANCE_FILES.supervisorLog, 16 * 1024).catch(() => null)) ?? "";
      const tail = log.trimEnd().split("\n").slice(-15).join("\n");
      throw new ExternalError(`the supervisor of ${instance} did not come up within ${String(Math.round(options.timeoutMs / 1000))} s${tail === "" ? "" : `:\n${tail}`}`, {
        hint: `cspace logs ${instance} shows its events; ${paths.supervisorLog} its own log`,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
