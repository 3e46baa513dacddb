import { randomBytes } from "node:crypto";
import { linkSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import { bootId, bootedAt, isSameProcessAlive } from "./process-identity.ts";

/**
 * A lock file that names its holder: the one implementation behind
 * adapters/fs/file-lock.ts (waited for around a piece of work),
 * adapters/store/coordinator-lock.ts (one coordinator per project) and the
 * worker's supervisor.pid (one supervisor per instance).
 *
 * Taking it is atomic: the record is written whole to a fresh file, then
 * link()ed to the lock's name, which fails if the name exists. So a lock is
 * never seen, or left by a crash, empty: the old "create with O_EXCL, then
 * write the owner" left an empty file after a kill -9 in between, which every
 * later taker waited on for ever.
 *
 * A lock is stale when its holder is certainly dead: same host, and another
 * boot, or its pid gone, or its pid now another process (the kernel's start
 * time differs). A holder on another host (a data directory on a network
 * share) cannot be probed: the caller decides (`otherHostStaleAfterMs`).
 *
 * Node's built-ins only: src/shared is bundled for the worker's Node 18.
 */

export interface LockRecord {
  readonly pid: number;
  readonly host: string;
  readonly token: string;
  /** ISO time the lock was taken. */
  readonly startedAt: string;
  readonly bootId?: string | undefined;
  readonly startTicks?: string | undefined;
}

export type LockContent =
  | { readonly kind: "missing" }
  | { readonly kind: "held"; readonly record: LockRecord }
  /** Empty or not a record: a crash between create and write by a cspace before this one. */
  | { readonly kind: "unreadable"; readonly ageMs: number };

export interface StalePolicy {
  /**
   * How long an unreadable lock file is given before it counts as stale. A
   * cspace before this one created the file, then wrote its owner: for that
   * instant the file is empty while its holder is alive. Past a few seconds
   * nobody is writing it any more: it is what a crash in that instant left.
   */
  readonly unreadableGraceMs: number;
  /** When a holder on another host counts as stale (by the age of its lock); never when undefined. */
  readonly otherHostStaleAfterMs?: number | undefined;
}

/** A lock taken before the old write-after-create code could have finished writing it: see StalePolicy. */
export const UNREADABLE_LOCK_GRACE_MS = 5_000;

/** The record this process writes: pid, host, a fresh token, and how to recognise this process again. */
export function ownLockRecord(): LockRecord {
  return {
    pid: process.pid,
    host: os.hostname(),
    token: randomBytes(8).toString("hex"),
    startedAt: new Date().toISOString(),
    bootId: bootId(),
    startTicks: probeStartTicks(),
  };
}

function probeStartTicks(): string | undefined {
  try {
    const stat = readFileSync(`/proc/${String(process.pid)}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

export type TakeResult =
  | { readonly taken: true; readonly broken: readonly string[] }
  /** `holder` null: the file is unreadable and still within its grace. */
  | { readonly taken: false; readonly holder: LockRecord | null; readonly broken: readonly string[] };

/**
 * One try at the lock: takes it, or says who holds it. A stale lock on the way
 * is broken (and described in `broken`, for the caller to say so).
 */
export function tryTakeLock(file: string, record: LockRecord, policy: StalePolicy, mode = 0o644): TakeResult {
  const broken: string[] = [];
  // Each pass takes the lock, meets a live holder, or clears a dead one; only processes racing for the same dead lock need another.
  for (let attempt = 0; attempt < 5; attempt += 1) {
    if (createWhole(file, record, mode)) return { taken: true, broken };
    const content = readLock(file);
    if (content.kind === "missing") continue;
    const why = staleReason(content, policy);
    if (why === null) return { taken: false, holder: content.kind === "held" ? content.record : null, broken };
    if (breakStaleLock(file, content)) broken.push(why);
  }
  const content = readLock(file);
  return { taken: false, holder: content.kind === "held" ? content.record : null, broken };
}

/** Creates the lock with its content in one step (link() of a whole file); false when the name exists. */
function createWhole(file: string, record: LockRecord, mode: number): boolean {
  const draft = `${file}.${record.token}.${randomBytes(4).toString("hex")}.new`;
  writeFileSync(draft, `${JSON.stringify(record)}\n`, { mode, flag: "wx" });
  try {
    linkSync(draft, file);
    return true;
  } catch (error) {
    if (codeOf(error) === "EEXIST") return false;
    throw error;
  } finally {
    try {
      unlinkSync(draft);
    } catch {
      // Already gone.
    }
  }
}

/** What the lock file holds now. */
export function readLock(file: string): LockContent {
  let text: string;
  let mtimeMs: number;
  try {
    mtimeMs = statSync(file).mtimeMs;
    text = readFileSync(file, "utf8");
  } catch (error) {
    if (codeOf(error) === "ENOENT") return { kind: "missing" };
    return { kind: "unreadable", ageMs: 0 };
  }
  const record = parseLockRecord(text);
  return record === null ? { kind: "unreadable", ageMs: Math.max(0, Date.now() - mtimeMs) } : { kind: "held", record };
}

/**
 * A record as this version writes it (JSON), or as the versions before it
 * did: `{host, pid, token, at}` (file-lock) and `<pid>\n<start ticks>\n`
 * (supervisor.pid). Null for anything else (empty included).
 */
export function parseLockRecord(text: string): LockRecord | null {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    try {
      const fields = JSON.parse(trimmed) as Record<string, unknown>;
      const { pid, host, token } = fields;
      if (typeof pid !== "number" || !Number.isInteger(pid) || pid <= 0 || typeof host !== "string") return null;
      const startedAt = typeof fields.startedAt === "string" ? fields.startedAt : typeof fields.at === "number" ? new Date(fields.at).toISOString() : null;
      if (startedAt === null) return null;
      return {
        pid,
        host,
        token: typeof token === "string" ? token : "",
        startedAt,
        bootId: typeof fields.bootId === "string" ? fields.bootId : undefined,
        startTicks: typeof fields.startTicks === "string" ? fields.startTicks : undefined,
      };
    } catch {
      return null;
    }
  }
  const [pidLine = "", ticksLine = ""] = trimmed.split("\n");
  const pid = Number(pidLine);
  if (!/^\d+$/.test(pidLine.trim()) || pid <= 0) return null;
  // An old supervisor.pid: same host (its container), no boot id, no time.
  return { pid, host: os.hostname(), token: "", startedAt: new Date(0).toISOString(), startTicks: /^\d+$/.test(ticksLine.trim()) ? ticksLine.trim() : undefined };
}

/** Why the lock is stale, or null while its holder may be alive. */
export function staleReason(content: LockContent, policy: StalePolicy): string | null {
  if (content.kind === "missing") return null;
  if (content.kind === "unreadable") {
    return content.ageMs >= policy.unreadableGraceMs ? `an empty or unreadable lock, ${String(Math.round(content.ageMs / 1000))} s old (a holder that crashed while taking it)` : null;
  }
  const holder = content.record;
  const who = `pid ${String(holder.pid)} on ${holder.host}`;
  if (holder.host !== os.hostname()) {
    const age = Date.now() - Date.parse(holder.startedAt);
    return policy.otherHostStaleAfterMs !== undefined && age > policy.otherHostStaleAfterMs ? `the lock of ${who}, taken ${String(Math.round(age / 1000))} s ago on another host` : null;
  }
  const boot = bootId();
  if (boot !== undefined && holder.bootId !== undefined) {
    if (boot !== holder.bootId) return `the lock of ${who}, taken before this machine last booted`;
  } else if (Date.parse(holder.startedAt) < bootedAt() - 60_000 && holder.startedAt !== new Date(0).toISOString()) {
    // Taken before this machine last booted (a minute's slack for the clock).
    return `the lock of ${who}, taken before this machine last booted`;
  }
  if (!isSameProcessAlive(holder.pid, holder.startTicks)) return `the lock of ${who}, which is no longer running`;
  return null;
}

/**
 * Moves the stale lock aside and deletes it, unless what was moved is not the
 * one judged stale (another process broke it and locked meanwhile): that one
 * is linked back, which fails only if yet another lock appeared. True when
 * the stale lock is gone by this call.
 */
export function breakStaleLock(file: string, seen: LockContent): boolean {
  const aside = `${file}.${String(process.pid)}.${randomBytes(4).toString("hex")}.stale`;
  try {
    renameSync(file, aside);
  } catch {
    return false;
  }
  const moved = readLock(aside);
  const same = sameContent(moved, seen);
  if (!same) {
    try {
      linkSync(aside, file);
    } catch {
      // Someone holds the name now; the next look reads them.
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    // Nothing to clean.
  }
  return same;
}

function sameContent(a: LockContent, b: LockContent): boolean {
  if (a.kind === "held" && b.kind === "held") return a.record.token === b.record.token && a.record.pid === b.record.pid && a.record.startTicks === b.record.startTicks;
  return a.kind === "unreadable" && b.kind === "unreadable";
}

/** Removes the lock if it is still this record's. */
export function releaseLock(file: string, record: LockRecord): void {
  const content = readLock(file);
  if (content.kind !== "held" || content.record.token !== record.token || content.record.pid !== record.pid) return;
  try {
    unlinkSync(file);
  } catch {
    // Already gone.
  }
}

function codeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
}
