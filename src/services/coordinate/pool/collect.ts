import { setTimeout as delay } from "node:timers/promises";
import { WorkerGoneError, type CollectOptions } from "../../../core/coordinator-runtime/ports.ts";
import { HostUnreachableError } from "./remote-workers.ts";

/** How often a silent host is asked again while a collect waits for it. */
const ASK_AGAIN_MS = 2_000;

/** What a collect needs of the pool: its remote workers (pool/remote-workers.ts), and `workers.lostAfterSeconds`. */
export interface CollectContext<Worker> {
  readonly remote: {
    /** The instance's remote worker, null when it runs here; HostUnreachableError while its host is silent. */
    of(instance: string): Promise<Worker | null>;
    collect(worker: Worker, branch: string, signal?: AbortSignal): Promise<{ readonly repository: string; readonly sha: string }>;
  };
  readonly lostAfterSeconds: number;
}

export interface CollectClock {
  readonly now: () => number;
  /** Resolves after `ms`, or rejects when `signal` fires. */
  readonly wait: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const realClock: CollectClock = { now: Date.now, wait: (ms, signal) => delay(ms, undefined, { signal }) };

/**
 * A remote worker's branch, collected for the push (WorkerPool.collect); null
 * for a worker here. The branch lives only in the worker's checkout, so while
 * its host does not answer the collect waits for it (a killed sshd, a link
 * down for a while), up to `workers.lostAfterSeconds` from when it went
 * silent, counted from this collect's first try at the earliest; after that the host counts
 * as lost and so does the branch: WorkerGoneError. A collect that fails while
 * the host answers fails as it is (the runtime retries it). `options.waiting`
 * is told once when the wait starts and once when the host answers again.
 */
export async function collectBranch<Worker>(context: CollectContext<Worker>, instance: string, branch: string, options: CollectOptions = {}, clock: CollectClock = realClock): Promise<{ readonly repository: string; readonly sha: string } | null> {
  const { signal, waiting } = options;
  const lostAfterMs = context.lostAfterSeconds * 1000;
  // Silence is counted from this collect's own first try at the earliest: a host's older record of silence may predate
  // answers it gave since (the branch is all there is of that work, so it is waited for rather than given up early).
  let firstTry: number | null = null;
  let waitingFor: string | null = null;
  for (;;) {
    try {
      const worker = await context.remote.of(instance);
      if (worker === null) return null;
      const collected = await context.remote.collect(worker, branch, signal);
      if (waitingFor !== null) waiting?.(`host ${waitingFor} answers again: ${instance}'s branch ${branch} is collected`);
      return { repository: collected.repository, sha: collected.sha };
    } catch (error) {
      const silent = error instanceof HostUnreachableError ? error : await silentSince(context, instance);
      if (silent === null) throw error;
      firstTry ??= clock.now();
      const silentMs = clock.now() - Math.max(silent.since, firstTry);
      if (silentMs >= lostAfterMs) {
        throw new WorkerGoneError(`host ${silent.host} has not answered for ${String(Math.round(silentMs / 1000))} s (workers.lostAfterSeconds is ${String(lostAfterMs / 1000)}): ${branch} was not collected from it`, { cause: error });
      }
      if (waitingFor === null) {
        waitingFor = silent.host;
        waiting?.(`${instance}'s branch ${branch} waits for its host to answer (${silent.message}); it is given up as lost after ${String(context.lostAfterSeconds)} s of silence (workers.lostAfterSeconds)`);
      }
      await clock.wait(Math.min(ASK_AGAIN_MS, lostAfterMs - silentMs), signal);
    }
  }
}

/** After a collect failed: whether the worker's host has stopped answering (the collect's error alone does not say). */
async function silentSince<Worker>(context: CollectContext<Worker>, instance: string): Promise<HostUnreachableError | null> {
  try {
    await context.remote.of(instance);
    return null;
  } catch (error) {
    return error instanceof HostUnreachableError ? error : null;
  }
}
