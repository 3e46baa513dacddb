import { setTimeout as delay } from "node:timers/promises";
import { ExternalError } from "../../core/errors.ts";
import { ownLockRecord, releaseLock, tryTakeLock, UNREADABLE_LOCK_GRACE_MS, type LockRecord } from "../../shared/pid-lock.ts";

/**
 * An exclusive lock between cspace processes around one piece of work,
 * waited for: a lock file naming its holder (src/shared/pid-lock.ts: taken
 * atomically, broken when its holder is certainly dead, by pid and start
 * time). A holder on another host is given `staleAfterMs`.
 */
export interface LockOptions {
  readonly timeoutMs?: number;
  readonly staleAfterMs?: number;
  /** Gives up waiting (with the signal's reason) when aborted. */
  readonly signal?: AbortSignal | undefined;
  /** Told when a stale lock (its holder dead, or an empty file a crash left) was broken to go on. */
  readonly onStaleBroken?: ((text: string) => void) | undefined;
  /**
   * Told once when the lock is held and the wait begins, naming the holder:
   * where a wait may be long (an instance held by a warm for as long as its
   * lifecycle commands run), pass `stderrNotice`, so it is never silent.
   */
  readonly onWait?: ((text: string) => void) | undefined;
}

export async function withFileLock<T>(lockFile: string, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const record = await acquire(lockFile, options);
  try {
    return await work();
  } finally {
    releaseLock(lockFile, record);
  }
}

async function acquire(lockFile: string, options: LockOptions): Promise<LockRecord> {
  const record = ownLockRecord();
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const policy = { unreadableGraceMs: UNREADABLE_LOCK_GRACE_MS, otherHostStaleAfterMs: options.staleAfterMs ?? 10 * 60_000 };
  let said = "";
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    let result;
    try {
      result = tryTakeLock(lockFile, record, policy);
    } catch (error) {
      throw new ExternalError(`cannot create the lock ${lockFile}: ${String(error)}`, { cause: error });
    }
    for (const why of result.broken) (options.onStaleBroken ?? stderrNotice)(`broke a stale lock ${lockFile}: ${why}`);
    if (result.taken) return record;
    // Said once per holder: a wait behind another process (a warm of the same instance, for hours) is never silent.
    const waitingFor = `waiting for the lock ${lockFile}, held by ${holderText(result.holder)}`;
    if (waitingFor !== said) options.onWait?.(waitingFor);
    said = waitingFor;
    if (Date.now() > deadline) {
      throw new ExternalError(`timed out waiting for the lock ${lockFile}, held by ${holderText(result.holder)}`, {
        hint: "If no cspace is running, delete the lock file.",
      });
    }
    // Jittered backoff: 2 ms growing to 50 ms, so two waiters rarely wake together.
    await delay(Math.min(50, 2 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random()), undefined, { signal: options.signal });
  }
}

function holderText(holder: LockRecord | null): string {
  return holder === null ? "another process (the file is empty: if no cspace is running, delete it)" : `process ${String(holder.pid)} on ${holder.host}, since ${holder.startedAt}`;
}

/** A lock broken is said on stderr unless the caller shows it otherwise: a wait that ended by breaking one is worth knowing. */
export function stderrNotice(text: string): void {
  process.stderr.write(`cspace: ${text}\n`);
}
