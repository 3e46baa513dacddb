import { mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import type { WorkerReport } from "../../core/agents/worker-status.ts";
import { checkWorkerReport } from "../../core/messaging/worker-messages.ts";
import type { InstancePaths } from "./instance-files.ts";

/**
 * Collecting the reports a supervisor could not deliver (nobody listened on
 * c.sock), as a coordinator does when it starts: every `outbox/*.json`
 * except dot-files (a supervisor's temporary file before its rename), each
 * persisted once by its id and then moved to `outbox/delivered/`. A report
 * already persisted (delivered over the socket meanwhile, or collected
 * before) is not persisted again; it is only moved. A file that cannot be
 * read as a report — not JSON, or not fitting the protocol's report schema:
 * the worker wrote it, so it is hostile input — is left where it is and named.
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

export async function collectOutbox(paths: Pick<InstancePaths, "outbox" | "delivered">, sink: ReportSink): Promise<OutboxCollection> {
  const names = (await readdir(paths.outbox, { withFileTypes: true }).catch(() => []))
    .filter((entry) => entry.isFile() && entry.name.endsWith(".json") && !entry.name.startsWith("."))
    .map((entry) => entry.name)
    .sort();
  const collected: WorkerReport[] = [];
  const duplicates: string[] = [];
  const unreadable: { file: string; reason: string }[] = [];
  if (names.length > 0) await mkdir(paths.delivered, { recursive: true, mode: 0o700 });
  for (const name of names) {
    const file = path.join(paths.outbox, name);
    let report: WorkerReport;
    try {
      report = asReport(JSON.parse(await readFile(file, "utf8")));
    } catch (error) {
      // Gone meanwhile (the supervisor delivered it and moved it): nothing to collect.
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
      unreadable.push({ file, reason: error instanceof Error ? error.message : String(error) });
      continue;
    }
    if (await sink.has(report.id)) {
      duplicates.push(report.id);
    } else {
      await sink.persist(report);
      collected.push(report);
    }
    await moveToDelivered(file, path.join(paths.delivered, name));
  }
  return { collected, duplicates, unreadable };
}

/** Moves a collected report; a copy already in delivered/ (the supervisor got an ack for it) makes this one redundant. */
async function moveToDelivered(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    await rm(from, { force: true });
  }
}

function asReport(value: unknown): WorkerReport {
  const report = checkWorkerReport(value);
  if (!report.ok) throw new Error(report.message);
  return report.value;
}
