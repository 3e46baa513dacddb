import { ownLockRecord, releaseLock, tryTakeLock, type LockRecord } from "../../shared/pid-lock.ts";

/**
 * Exactly one supervisor per instance: `supervisor.pid`, a lock naming its
 * holder (src/shared/pid-lock.ts, the same as the host's locks: taken
 * atomically, so never left empty; replaced when its holder is gone, judged
 * by pid and start time, so a pid reused after a container restart is not
 * mistaken for the owner).
 */

export class LockHeldError extends Error {
  override readonly name = "LockHeldError";
  readonly owner: number;

  constructor(file: string, owner: number) {
    super(`another supervisor (pid ${String(owner)}) already runs for this instance (${file})`);
    this.owner = owner;
  }
}

export interface SupervisorLock {
  /** Why a stale lock was broken to take this one (a dead supervisor's, or an empty file a crash left): for the log. */
  readonly broken: readonly string[];
  release(): void;
}

/**
 * The lock is only ever written whole by the supervisor the host just copied
 * in, so an unreadable one is a crash's leftover (or an older supervisor's,
 * killed between its create and its write): cleared at once.
 */
const POLICY = { unreadableGraceMs: 0 };

export function acquireLock(file: string): SupervisorLock {
  const self: LockRecord = ownLockRecord();
  const result = tryTakeLock(file, self, POLICY);
  if (result.taken) return { broken: result.broken, release: () => { releaseLock(file, self); } };
  if (result.holder !== null) throw new LockHeldError(file, result.holder.pid);
  throw new Error(`could not take ${file}: it kept changing hands`);
}
