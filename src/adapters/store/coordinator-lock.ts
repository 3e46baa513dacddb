import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { CoordinatorHolder, CoordinatorLock, HeldCoordinatorLock } from "../../core/coordinator-store/port.ts";
import { coordinatorRunning } from "../../core/coordinator-store/refusal.ts";
import { ExternalError } from "../../core/errors.ts";
import { stderrNotice } from "../fs/file-lock.ts";
import { ownLockRecord, readLock, releaseLock, staleReason, tryTakeLock, type LockRecord, type StalePolicy } from "../../shared/pid-lock.ts";

/**
 * One coordinator per project: `coordinator.lock` in the project's data
 * directory, held for the coordinator's whole life (unlike fs/file-lock.ts,
 * which holds a lock around one function and waits for it). It names its
 * holder and how to recognise that process again (src/shared/pid-lock.ts),
 * so a holder that died, even in a reboot, is replaced, and a live one is
 * named in the refusal. A holder on another host (a data directory on a
 * network share) cannot be probed: it is refused, and the message says which
 * file to delete if it is gone.
 */
export const COORDINATOR_LOCK_FILE = "coordinator.lock";

/**
 * This lock has always been created whole (link() of a written file), so an
 * unreadable one was not left half-written by a holder at work: it is
 * cleared at once, like a dead holder's.
 */
const POLICY: StalePolicy = { unreadableGraceMs: 0 };

export class FileCoordinatorLock implements CoordinatorLock {
  readonly #dir: string;

  /** `dir`: the project's data directory (`<data>/<project id>`). */
  constructor(dir: string) {
    this.#dir = dir;
  }

  acquire(): Promise<HeldCoordinatorLock> {
    return acquireCoordinatorLock(this.#dir);
  }

  holder(): Promise<CoordinatorHolder | undefined> {
    const content = readLock(path.join(this.#dir, COORDINATOR_LOCK_FILE));
    return Promise.resolve(content.kind !== "held" || staleReason(content, POLICY) !== null ? undefined : holderOf(content.record));
  }
}

/** Takes the project's coordinator lock, or throws a UserError naming the coordinator that holds it. */
export async function acquireCoordinatorLock(dir: string): Promise<HeldCoordinatorLock> {
  const file = path.join(dir, COORDINATOR_LOCK_FILE);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const mine = ownLockRecord();
  let result;
  try {
    result = tryTakeLock(file, mine, POLICY, 0o600);
  } catch (error) {
    throw new ExternalError(`cannot create the coordinator lock ${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  // Said as the instance and store locks say it: a run that went on over a crash's leftover is worth knowing.
  for (const why of result.broken) stderrNotice(`broke a stale lock ${file}: ${why}`);
  if (result.taken) {
    return {
      holder: holderOf(mine),
      release: () => {
        releaseLock(file, mine);
        return Promise.resolve();
      },
    };
  }
  if (result.holder !== null) throw coordinatorRunning(holderOf(result.holder), { lockFile: file, localHost: os.hostname() });
  throw new ExternalError(`cannot take the coordinator lock ${file}: other processes keep taking and dropping it`, { hint: "try again" });
}

function holderOf(record: LockRecord): CoordinatorHolder {
  return { pid: record.pid, host: record.host, startedAt: record.startedAt };
}
