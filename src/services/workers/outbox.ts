import { ensureUntrustedDir, listUntrusted, moveUntrusted, readUntrustedText, removeUntrusted, UNTRUSTED_LIMITS } from "../../adapters/fs/untrusted-dir.ts";
import path from "node:path";
import type { WorkerReport } from "../../core/agents/worker-status.ts";
import type { InstancePaths } from "./instance-files.ts";

/**
 * Collecting the reports a supervisor could not deliver (nobody listened on
 * c.sock), as a coordinator does when it starts: every `outbox/*.json`
 * except dot-files (a supervisor's temporary file before its rename), each
 * persisted once by its id and then moved to `outbox/delivered/`. A report
 * already persisted (delivered over the socket meanwhile, or collected
 * before) is not persisted again; it is only moved. A file that cannot be
 * read as a report is left where it is and named.
 */

/** Where collected reports are kept: the coordinator's store (tests: a map). */
export interface ReportSink {
  /** Whether a report with this id was persisted before. */
  has(id: string): boolean | Promise<boolean>;
  /** Persists durably; resolves once it is safe to move the file out of the outbox. */
  persist(report: WorkerReport): void | Promise<void>;
}

export interface OutboxCollection {
  /** Persisted now, oldest first (ids sort by time). */
  readonly collected: readonly WorkerReport[];
  /** Ids already persisted: moved, not persisted again. */
  readonly duplicates: readonly string[];
  /** Files left in place because they are not reports, with why. */
  readonly unreadable: readonly { readonly file: string; readonly reason: string }[];
}

/** outbox/ and outbox/delivered/ below the instance directory (INSTANCE_FILES), which the worker can write: never a link followed. */
const OUTBOX = ["outbox"];
const DELIVERED = ["outbox", "delivered"];

export async function collectOutbox(paths: Pick<InstancePaths, "dir" | "outbox">, sink: ReportSink): Promise<OutboxCollection> {
  const names = (await listUntrusted(paths.dir, OUTBOX).catch(() => []))
    .filter((entry) => entry.isFile() && entry.name.endsWith(".json") && !entry.name.startsWith("."))
    .map((entry) => entry.name)
    .sort();
  const collected: WorkerReport[] = [];
  const duplicates: string[] = [];
  const unreadable: { file: string; reason: string }[] = [];
  if (names.length > 0) await ensureUntrustedDir(paths.dir, OUTBOX, "delivered", 0o700);
  for (const name of names) {
    const file = path.join(paths.outbox, name);
    let report: WorkerReport;
    try {
      const text = await readUntrustedText(paths.dir, `outbox/${name}`, UNTRUSTED_LIMITS.record);
      // Gone meanwhile (the supervisor delivered it and moved it): nothing to collect.
      if (text === null) continue;
      report = asReport(JSON.parse(text));
    } catch (error) {
      unreadable.push({ file, reason: error instanceof Error ? error.message : String(error) });
      continue;
    }
    if (await sink.has(report.id)) {
      duplicates.push(report.id);
    } else {
      await sink.persist(report);
      collected.push(report);
    }
    await moveToDelivered(paths.dir, name);
  }
  return { collected, duplicates, unreadable };
}

/** Moves a collected report; a copy already in delivered/ (the supervisor got an ack for it) makes this one redundant. */
async function moveToDelivered(dir: string, name: string): Promise<void> {
  try {
    await moveUntrusted(dir, OUTBOX, DELIVERED, name);
  } catch {
    await removeUntrusted(dir, `outbox/${name}`);
  }
}

function asReport(value: unknown): WorkerReport {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("not a JSON object");
  const fields = value as Record<string, unknown>;
  for (const key of ["id", "instance", "outcome"] as const) {
    if (typeof fields[key] !== "string" || fields[key] === "") throw new Error(`${key} is missing or not a string`);
  }
  return value as WorkerReport;
}
