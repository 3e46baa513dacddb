import { z } from "zod";
import type { ReportOutcome, WorkerReport } from "../agents/worker-status.ts";
import { checked, type Checked } from "./checked.ts";

// Here for the modules that import them from this file; they live in checked.ts, which loads no classic zod.
export { checked, describeIssues, type Checked } from "./checked.ts";

/**
 * What a worker may say to the host, as zod schemas: the host's check of
 * every report and message that comes out of a container (c.sock, the
 * outbox) before anything is recorded. A container is hostile input: a
 * report that does not fit is refused, naming the field, and never reaches
 * the event log. Host-side only: protocol.ts, which the Node-18 worker
 * bundle shares, imports nothing and stays free of zod.
 */

const REPORT_OUTCOMES = ["success", "failure", "crash", "oom", "blocked", "interrupted"] as const satisfies readonly ReportOutcome[];

/** Ids, names, refs and shas: one line, short. */
const name = z.string().min(1).max(200).regex(/^[^\n\r\0]*$/, "must be one line without NUL");
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const timestamp = z.iso.datetime({ offset: true });

// Strict: a field this cspace does not know is refused (the supervisor is bundled from the same cspace).
const workerReportObject = z.strictObject({
  id: name,
  instance: name,
  outcome: z.enum(REPORT_OUTCOMES),
  exitCode: z.number().int().min(-2_147_483_648).max(2_147_483_647).nullable(),
  signal: name.nullable(),
  branch: name,
  base: name,
  headSha: z.string().regex(/^[0-9a-f]{4,64}$/, "must be a hex commit id").nullable(),
  commitsAhead: count,
  summary: z.string(),
  blockedReason: z.string().nullable(),
  turns: count,
  costUsd: z.number().min(0).max(1e9).nullable(),
  sessionId: name.nullable(),
  startedAt: timestamp,
  endedAt: timestamp,
  // Its message reaches the log and the report: bounded like a summary line.
  usageLimit: z
    .strictObject({ resetsAt: timestamp.nullable(), kind: name.nullable(), message: z.string().max(400) })
    .nullable()
    .optional(),
  restarted: z.literal(true).optional(),
  costEstimated: z.literal(true).optional(),
});

/** A report as it comes from a worker: strict, since its shas reach git on the host and its words reach the log. */
export const workerReportSchema: z.ZodType<WorkerReport> = workerReportObject;

/**
 * A report as the event log keeps it (`Reported`): the same fields, with the
 * names and shas taken as recorded (the wire checked them; simulations and
 * older logs use placeholders).
 */
export const recordedReportSchema: z.ZodType<WorkerReport> = z.object({
  ...workerReportObject.shape,
  branch: z.string(),
  base: z.string(),
  signal: z.string().nullable(),
  headSha: z.string().nullable(),
  sessionId: z.string().nullable(),
  startedAt: z.string(),
  endedAt: z.string(),
});

/** The text of a worker's `cspace send _coordinator`. */
export const workerMessageTextSchema = z.string().refine((text) => text.trim() !== "", "must not be empty");

/** A report as the host accepts it (unknown fields dropped), or why not, naming the field. */
export function checkWorkerReport(value: unknown): Checked<WorkerReport> {
  return checked(workerReportSchema, value, "report");
}

export function checkWorkerMessageText(value: unknown): Checked<string> {
  return checked(workerMessageTextSchema, value, "text");
}
