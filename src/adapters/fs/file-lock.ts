import { randomBytes } from "node:crypto";
import { link, open, readFile, rename, rm } from "node:fs/promises";
import os from "node:os";
import { setTimeout as delay } from "node:timers/promises";
import { ExternalError } from "../../core/errors.ts";

/**
 * An exclusive lock between cspace processes: a file created with O_EXCL
 * holding the owner's host, pid and a token. A lock whose process is gone (same
 * host) or that is older than `staleAfterMs` (another host) is broken.
 */
export interface LockOptions {
  readonly timeoutMs?: number;
  readonly staleAfterMs?: number;
  /** Gives up waiting (with the signal's reason) when aborted. */
  readonly signal?: AbortSignal | undefined;
}

interface Owner {
  readonly host: string;
  readonly pid: number;
  readonly token: string;
  readonly at: number;
}

export async function withFileLock<T>(lockFile: string, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const token = await acquire(lockFile, options.timeoutMs ?? 30_000, options.staleAfterMs ?? 10 * 60_000, options.signal);
  try {
    return await work();
  } finally {
    await release(lockFile, token);
  }
}

async function acquire(lockFile: string, timeoutMs: number, staleAfterMs: number, signal: AbortSignal | undefined): Promise<string> {
  const owner: Owner = { host: os.hostname(), pid: process.pid, token: randomBytes(8).toString("hex"), at: Date.now() };
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    try {
      const handle = await open(lockFile, "wx");
      try {
        await handle.writeFile(JSON.stringify(owner));
      } finally {
        await handle.close();
      }
      return owner.token;
    } catch (error) {
      if (!isCode(error, "EEXIST")) throw new ExternalError(`cannot create the lock ${lockFile}: ${String(error)}`, { cause: error });
    }
    const holder = await readOwner(lockFile);
    if (holder !== null && isStale(holder, staleAfterMs)) await breakLock(lockFile, holder);
    if (Date.now() > deadline) {
      const who = holder === null ? "another process" : `process ${String(holder.pid)} on ${holder.host}`;
      throw new ExternalError(`timed out waiting for the lock ${lockFile}, held by ${who}`, {
        hint: "If no cspace is running, delete the lock file.",
      });
    }
    // Jittered backoff: 2 ms growing to 50 ms, so two waiters rarely wake together.
    await delay(Math.min(50, 2 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random()), undefined, { signal });
  }
}

async function release(lockFile: string, token: string): Promise<void> {
  const holder = await readOwner(lockFile);
  if (holder?.token === token) await rm(lockFile, { force: true });
}

async function readOwner(lockFile: string): Promise<Owner | null> {
  const text = await readFile(lockFile, "utf8").catch(() => null);
  if (text === null) return null;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null) return null;
    const { host, pid, token, at } = parsed as Partial<Record<keyof Owner, unknown>>;
    if (typeof host === "string" && typeof pid === "number" && typeof token === "string" && typeof at === "number") {
      return { host, pid, token, at };
    }
  } catch {
    // A lock being written right now reads as empty: not stale, just wait.
  }
  return null;
}

function isStale(holder: Owner, staleAfterMs: number): boolean {
  if (holder.host !== os.hostname()) return Date.now() - holder.at > staleAfterMs;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return isCode(error, "ESRCH");
  }
}

/**
 * Moves the stale lock aside and deletes it, unless what was moved is no
 * longer the stale one (another process broke it and locked meanwhile): that
 * one is linked back, which fails only if yet another lock appeared.
 */
async function breakLock(lockFile: string, stale: Owner): Promise<void> {
  const aside = `${lockFile}.${String(process.pid)}.${randomBytes(4).toString("hex")}.stale`;
  try {
    await rename(lockFile, aside);
  } catch {
    return;
  }
  const moved = await readOwner(aside);
  if (moved !== null && moved.token !== stale.token) await link(aside, lockFile).catch(() => undefined);
  await rm(aside, { force: true });
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === code;
}
