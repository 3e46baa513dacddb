import { readUntrustedTail } from "../../adapters/fs/untrusted-dir.ts";
import { INSTANCE_FILES } from "../../core/messaging/layout.ts";
import { newRequestId, request } from "../../adapters/messaging/client.ts";
import { MessagingError } from "../../adapters/messaging/errors.ts";
import type { WorkerStatus } from "../../core/agents/worker-status.ts";
import { ExternalError } from "../../core/errors.ts";
import type { WorkerCommand } from "../../core/messaging/protocol.ts";
import type { InstancePaths } from "./instance-files.ts";

/** The supervisor's answer to `status`, or null when nobody answers on its socket. */
export async function askStatus(paths: InstancePaths, timeoutMs = 2_000): Promise<WorkerStatus | null> {
  try {
    const reply = await request(paths.workerSocket, { v: 1, id: newRequestId(), cmd: "status", from: "host" }, { timeoutMs });
    return reply.ok ? (reply.status as WorkerStatus) : null;
  } catch (error) {
    if (error instanceof MessagingError) return null;
    throw error;
  }
}

/** Sends one worker command; an error reply becomes an ExternalError carrying its code and message. */
export async function askSupervisor(
  paths: InstancePaths,
  instance: string,
  cmd: WorkerCommand,
  fields: { readonly text?: string; readonly from?: string } = {},
  timeoutMs = 5_000,
): Promise<Readonly<Record<string, unknown>>> {
  const reply = await request(paths.workerSocket, { v: 1, id: newRequestId(), cmd, ...fields }, { timeoutMs });
  if (!reply.ok) throw new ExternalError(`${instance}'s supervisor refused ${cmd}: ${reply.error.message} (${reply.error.code})`);
  return reply;
}

/**
 * Waits until a supervisor just started answers `status`. It is started
 * detached, so its failures show only in supervisor.log: when it does not
 * come up in time, that log's tail is the error.
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
