import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { CoordinatorHolder, CoordinatorLock, HeldCoordinatorLock } from "../../core/coordinator-store/port.ts";
import { coordinatorRunning } from "../../core/coordinator-store/refusal.ts";
import { ExternalError } from "../../core/errors.ts";
import { bootId, bootedAt, probeProcess } from "./process-identity.ts";

/**
 * One coordinator per project: `coordinator.lock` in the project's data
 * directory, held for the coordinator's whole life (unlike fs/file-lock.ts,
 * which holds a lock around one function and waits for it). It names its
 * holder (pid, host, start time) and how to recognise that process again
 * (boot id, the kernel's start time of the pid), so a holder that died, even
 * in a reboot, is replaced, and a live one is named in the refusal. A holder
 * on another host (a data directory on a network share) cannot be probed: it
 * is refused, and the message says which file to delete if it is gone.
 */
export const COORDINATOR_LOCK_FILE = "coordinator.lock";

interface LockRecord extends CoordinatorHolder {
  readonly token: string;
  readonly bootId?: string | undefined;
  readonly startTicks?: string | undefined;
}

export class FileCoordinatorLock implements CoordinatorLock {
  readonly #dir: string;

  /** `dir`: the project's data directory (`<data>/<project id>`). */
  constructor(dir: string) {
    this.#dir = dir;
  }

  acquire(): Promise<HeldCoordinatorLock> {
    return acquireCoordinatorLock(this.#dir);
  }

  async holder(): Promise<CoordinatorHolder | undefined> {
    const record = await readRecord(path.join(this.#dir, COORDINATOR_LOCK_FILE));
    return record === undefined || record === "unreadable" || isStale(record) ? undefined : holderOf(record);
  }
}

/** Takes the project's coordinator lock, or throws a UserError naming the coordinator that holds it. */
export async function acquireCoordinatorLock(dir: string): Promise<HeldCoordinatorLock> {
  const file = path.join(dir, COORDINATOR_LOCK_FILE);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const mine: LockRecord = {
    pid: process.pid,
    host: os.hostname(),
    startedAt: new Date().toISOString(),
    token: randomBytes(8).toString("hex"),
    bootId: bootId(),
    startTicks: probeProcess(process.pid).startTicks,
  };
  // Each pass either takes the lock, meets a live holder, or clears a dead one;
  // only processes racing for the same dead lock need another pass.
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await createWhole(file, mine)) return held(file, mine);
    const holder = await readRecord(file);
    if (holder === undefined) continue; // released meanwhile
    if (holder !== "unreadable" && !isStale(holder)) throw coordinatorRunning(holderOf(holder), { lockFile: file, localHost: os.hostname() });
    await breakStale(file, holder === "unreadable" ? undefined : holder.token);
  }
  throw new ExternalError(`cannot take the coordinator lock ${file}: other processes keep taking and dropping it`, { hint: "try again" });
}

/** Creates the lock file with its content in one step: a file made then written could be seen, or left, empty. */
async function createWhole(file: string, record: LockRecord): Promise<boolean> {
  const draft = `${file}.${record.token}.new`;
  try {
    await writeFile(draft, `${JSON.stringify(record)}\n`, { mode: 0o600 });
    await link(draft, file);
    return true;
  } catch (error) {
    if (codeOf(error) === "EEXIST") return false;
    throw new ExternalError(`cannot create the coordinator lock ${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  } finally {
    await rm(draft, { force: true });
  }
}

function held(file: string, record: LockRecord): HeldCoordinatorLock {
  return {
    holder: holderOf(record),
    async release() {
      const current = await readRecord(file);
      if (current !== undefined && current !== "unreadable" && current.token === record.token) await rm(file, { force: true });
    },
  };
}

/** Whether the holder is certainly dead: another host's holder never is, as far as this machine can tell. */
function isStale(holder: LockRecord): boolean {
  if (holder.host !== os.hostname()) return false;
  const boot = bootId();
  if (boot !== undefined && holder.bootId !== undefined) {
    if (boot !== holder.bootId) return true;
  } else if (Date.parse(holder.startedAt) < bootedAt() - 60_000) {
    // Taken before this machine last booted (a minute's slack for the clock).
    return true;
  }
  const probe = probeProcess(holder.pid);
  if (probe.state === "gone") return true;
  // The pid is alive, but started at another time: it was reused.
  return probe.startTicks !== undefined && holder.startTicks !== undefined && probe.startTicks !== holder.startTicks;
}

/**
 * Moves the dead holder's file aside and deletes it, unless what was moved is
 * not that holder's (another process cleared it and took the lock
 * meanwhile): that one is linked back, which fails only if yet another
 * appeared. The same dance as fs/file-lock.ts.
 */
async function breakStale(file: string, staleToken: string | undefined): Promise<void> {
  const aside = `${file}.${String(process.pid)}.${randomBytes(4).toString("hex")}.stale`;
  try {
    await rename(file, aside);
  } catch {
    return;
  }
  const moved = await readRecord(aside);
  if (moved !== undefined && moved !== "unreadable" && moved.token !== staleToken) await link(aside, file).catch(() => undefined);
  await rm(aside, { force: true });
}

/**
 * The record in a lock file, undefined when there is none. cspace creates the
 * file whole, so one that does not parse was not left half-written by a
 * holder at work: "unreadable", and cleared like a dead holder's.
 */
async function readRecord(file: string): Promise<LockRecord | "unreadable" | undefined> {
  const content = await readFile(file, "utf8").catch((error: unknown) => {
    if (codeOf(error) === "ENOENT") return undefined;
    throw new ExternalError(`cannot read the coordinator lock ${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  });
  return content === undefined ? undefined : (parseRecord(content) ?? "unreadable");
}

function parseRecord(content: string): LockRecord | undefined {
  try {
    const parsed: unknown = JSON.parse(content);
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const { pid, host, startedAt, token, bootId: boot, startTicks } = parsed as Partial<Record<keyof LockRecord, unknown>>;
    if (typeof pid !== "number" || typeof host !== "string" || typeof startedAt !== "string" || typeof token !== "string") return undefined;
    return { pid, host, startedAt, token, bootId: typeof boot === "string" ? boot : undefined, startTicks: typeof startTicks === "string" ? startTicks : undefined };
  } catch {
    return undefined;
  }
}

function holderOf(record: LockRecord): CoordinatorHolder {
  return { pid: record.pid, host: record.host, startedAt: record.startedAt };
}

function codeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
}
