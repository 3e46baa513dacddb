import { closeSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { identityOf, isAlive, type ProcessIdentity } from "./proc.ts";

/**
 * Exactly one supervisor per instance: `supervisor.pid`, created with O_EXCL,
 * holds the owner's pid (first line, what the host reads) and its start time
 * in clock ticks (second line, so a pid reused after a container restart is
 * not mistaken for the owner). A lock whose owner is gone is replaced.
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
  release(): void;
}

export function acquireLock(file: string): SupervisorLock {
  const self = identityOf(process.pid);
  for (let attempt = 0; attempt < 5; attempt += 1) {
    try {
      const fd = openSync(file, "wx", 0o644);
      try {
        writeSync(fd, `${String(self.pid)}\n${self.startTicks === null ? "" : String(self.startTicks)}\n`);
      } finally {
        closeSync(fd);
      }
      return { release: () => { releaseIfOurs(file, self); } };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = readHolder(file);
    if (holder !== null && isAlive(holder)) throw new LockHeldError(file, holder.pid);
    setAsideStale(file, holder);
  }
  throw new Error(`could not take ${file}: it kept changing hands`);
}

/** The recorded owner, or null for a file that is empty or unreadable (a crash between create and write). */
export function readHolder(file: string): ProcessIdentity | null {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return null;
  }
  const [pidLine = "", ticksLine = ""] = text.split("\n");
  const pid = Number(pidLine);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const ticks = ticksLine.trim() === "" ? null : Number(ticksLine);
  return { pid, startTicks: ticks !== null && Number.isFinite(ticks) ? ticks : null };
}

/**
 * Moves a stale lock aside with a rename (atomic: of two processes doing
 * this, one wins). If what was moved turns out to be a live owner's fresh
 * lock (it changed between our read and the rename), it is put back.
 */
function setAsideStale(file: string, seen: ProcessIdentity | null): void {
  const aside = `${file}.stale-${String(process.pid)}`;
  try {
    renameSync(file, aside);
  } catch {
    return;
  }
  const moved = readHolder(aside);
  const same = moved?.pid === seen?.pid && moved?.startTicks === seen?.startTicks;
  if (!same && moved !== null && isAlive(moved)) {
    // link() refuses to overwrite: if yet another process took the path meanwhile, it keeps it.
    try {
      linkSync(aside, file);
    } catch {
      // Someone holds the path now; our next attempt reads them.
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    // Nothing to clean.
  }
}

function releaseIfOurs(file: string, self: ProcessIdentity): void {
  const holder = readHolder(file);
  if (holder?.pid !== self.pid) return;
  try {
    unlinkSync(file);
  } catch {
    // Already gone.
  }
}
