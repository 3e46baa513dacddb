import { z } from "zod";
import type { AgentState, ReportOutcome, WorkerStatus } from "../agents/worker-status.ts";
import type { ErrorCode, WorkerCommand } from "./protocol.ts";
import { checked, type Checked } from "./worker-messages.ts";

/**
 * What the host accepts as an answer on a worker's `w.sock`, as zod schemas.
 * The socket sits in the instance directory, which the container can write:
 * a prompt-injected agent can kill its supervisor and answer in its place.
 * So every reply is hostile input, checked here before the host uses a field
 * of it (docs/protocol.md, "Worker commands"). Unknown fields are dropped,
 * as the protocol lets v1 grow; known ones must have their shape and bounds.
 * Host-side only, like worker-messages.ts: protocol.ts stays free of zod.
 */

const AGENT_STATES = ["starting", "working", "idle", "exited"] as const satisfies readonly AgentState[];
const REPORT_OUTCOMES = ["success", "failure", "crash", "oom", "blocked", "interrupted"] as const satisfies readonly ReportOutcome[];
const ERROR_CODES = [
  "bad-json",
  "too-large",
  "unsupported-version",
  "unknown-command",
  "bad-request",
  "timeout",
  "not-running",
  "rate-limited",
  "internal",
] as const satisfies readonly ErrorCode[];

/** Ids, names, refs and shas: one line, short (they are shown and compared, never run). */
const name = z.string().min(1).max(200).regex(/^[^\n\r\0]*$/, "must be one line without NUL");
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const timestamp = z.iso.datetime({ offset: true });

/** The supervisor's `status` (and state.json, which carries the same fields and more). */
export const workerStatusSchema: z.ZodType<WorkerStatus> = z.object({
  instance: name,
  preset: name,
  state: z.enum(AGENT_STATES),
  exitCode: z.number().int().min(-2_147_483_648).max(2_147_483_647).nullable(),
  signal: name.nullable(),
  turns: count,
  costUsd: z.number().min(0).max(1e9).nullable(),
  sessionId: name.nullable(),
  lastActivity: timestamp,
  queueDepth: count,
  branch: name,
  headSha: z.string().regex(/^[0-9a-f]{4,64}$/, "must be a hex commit id").nullable(),
  pid: z.number().int().min(1).max(2 ** 22),
  startedAt: timestamp,
  /** Shown on `status` while the agent retries its model API ("API error 529, retry 3 of 10"). */
  apiRetry: name.optional(),
  /** The running invocation's turns and cost that no report holds yet (the coordinator's budget polls it). */
  costEstimated: z.literal(true).optional(),
  unreported: z.object({ turns: count, costUsd: z.number().min(0).max(1e9).nullable(), since: timestamp }).optional(),
});

/** The most of an error reply's message the host shows: a person reads it, and the worker wrote it. */
export const MAX_SHOWN_ERROR_CHARS = 500;

const errorReplySchema = z.object({
  ok: z.literal(false),
  error: z.object({ code: z.enum(ERROR_CODES), message: z.string().max(64 * 1024) }),
});

/** The `ok: true` answer to each command, as the supervisor sends it. */
const okSchemas = {
  status: z.object({ ok: z.literal(true), status: workerStatusSchema }),
  send: z.object({ ok: z.literal(true), queued: z.literal(true), queueDepth: count }),
  interrupt: z.object({ ok: z.literal(true), reportId: name, outcome: z.enum(REPORT_OUTCOMES) }),
  shutdown: z.object({ ok: z.literal(true), reportId: name.nullable(), undelivered: z.array(z.string()) }),
} as const;

export type WorkerOk<C extends WorkerCommand> = z.infer<(typeof okSchemas)[C]>;
export type WorkerErrorAnswer = { readonly ok: false; readonly error: { readonly code: ErrorCode; readonly message: string } };
export type WorkerAnswer<C extends WorkerCommand> = WorkerOk<C> | WorkerErrorAnswer;

/**
 * A reply to `cmd` as the host accepts it (an error reply's message cut to
 * what is shown), or why not, naming the field: `reply.status.state: …`.
 */
export function checkWorkerReply<C extends WorkerCommand>(cmd: C, reply: unknown): Checked<WorkerAnswer<C>> {
  const isError = typeof reply === "object" && reply !== null && (reply as { ok?: unknown }).ok === false;
  if (isError) {
    const result = checked(errorReplySchema, reply, "reply");
    if (!result.ok) return result;
    const { code, message } = result.value.error;
    return { ok: true, value: { ok: false, error: { code, message: clipShown(message) } } };
  }
  const schema: z.ZodType<WorkerOk<C>> = okSchemas[cmd] as unknown as z.ZodType<WorkerOk<C>>;
  return checked(schema, reply, "reply");
}

/** state.json as the host accepts it, or null: a file the worker can write is read like a reply. */
export function checkRecordedStatus(value: unknown): WorkerStatus | null {
  const result = workerStatusSchema.safeParse(value);
  return result.success ? result.data : null;
}

function clipShown(text: string): string {
  // Control characters (escape sequences, newlines) from the worker never reach a terminal.
  const oneLine = Array.from(text, (char) => (char < " " || char === "\x7f" ? " " : char)).join("");
  return oneLine.length <= MAX_SHOWN_ERROR_CHARS ? oneLine : `${oneLine.slice(0, MAX_SHOWN_ERROR_CHARS - 1)}…`;
}
