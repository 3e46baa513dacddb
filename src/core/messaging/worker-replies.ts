import * as z from "zod/mini";
import type { AgentState, ReportOutcome, WorkerStatus } from "../agents/worker-status.ts";
import type { ErrorCode, WorkerCommand } from "./protocol.ts";
import { checked, type Checked } from "./checked.ts";

/**
 * What the host accepts as an answer on a worker's `w.sock`, as zod schemas.
 * The socket sits in the instance directory, which the container can write:
 * a prompt-injected agent can kill its supervisor and answer in its place.
 * So every reply is hostile input, checked here before the host uses a field
 * of it (docs/protocol.md, "Worker commands"). Unknown fields are dropped,
 * as the protocol lets v1 grow; known ones must have their shape and bounds.
 * Host-side only, like worker-messages.ts: protocol.ts stays free of zod.
 * zod/mini, not zod: `list`, `status` and `send` check replies with these,
 * and zod's classic API would add a 755 KB chunk to each (docs/architecture.md,
 * "Start-up"). The checks are classic zod's, written as functions.
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
const name = z.string().check(z.minLength(1), z.maxLength(200), z.regex(/^[^\n\r\0]*$/, "must be one line without NUL"));
const count = z.number().check(z.int(), z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER));
const timestamp = z.iso.datetime({ offset: true });

/** The supervisor's `status` (and state.json, which carries the same fields and more). */
export const workerStatusSchema: z.ZodMiniType<WorkerStatus> = z.object({
  instance: name,
  preset: name,
  state: z.enum(AGENT_STATES),
  exitCode: z.nullable(z.number().check(z.int(), z.minimum(-2_147_483_648), z.maximum(2_147_483_647))),
  signal: z.nullable(name),
  turns: count,
  costUsd: z.nullable(z.number().check(z.minimum(0), z.maximum(1e9))),
  sessionId: z.nullable(name),
  lastActivity: timestamp,
  queueDepth: count,
  branch: name,
  headSha: z.nullable(z.string().check(z.regex(/^[0-9a-f]{4,64}$/, "must be a hex commit id"))),
  pid: z.number().check(z.int(), z.minimum(1), z.maximum(2 ** 22)),
  startedAt: timestamp,
  /** Shown on `status` while the agent retries its model API ("API error 529, retry 3 of 10"). */
  apiRetry: z.optional(name),
  /** The running invocation's turns and cost that no report holds yet (the coordinator's budget polls it). */
  costEstimated: z.optional(z.literal(true)),
  unreported: z.optional(z.object({ turns: count, costUsd: z.nullable(z.number().check(z.minimum(0), z.maximum(1e9))), since: timestamp })),
});

/** The most of an error reply's message the host shows: a person reads it, and the worker wrote it. */
export const MAX_SHOWN_ERROR_CHARS = 500;

const errorReplySchema = z.object({
  ok: z.literal(false),
  error: z.object({ code: z.enum(ERROR_CODES), message: z.string().check(z.maxLength(64 * 1024)) }),
});

/** The `ok: true` answer to each command, as the supervisor sends it. */
const okSchemas = {
  status: z.object({ ok: z.literal(true), status: workerStatusSchema }),
  send: z.object({ ok: z.literal(true), queued: z.literal(true), queueDepth: count }),
  interrupt: z.object({ ok: z.literal(true), reportId: name, outcome: z.enum(REPORT_OUTCOMES) }),
  shutdown: z.object({ ok: z.literal(true), reportId: z.nullable(name), undelivered: z.array(z.string()) }),
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
  const schema = okSchemas[cmd] as unknown as z.ZodMiniType<WorkerOk<C>>;
  return checked(schema, reply, "reply");
}

/** state.json as the host accepts it, or null: a file the worker can write is read like a reply. */
export function checkRecordedStatus(value: unknown): WorkerStatus | null {
  const result = z.safeParse(workerStatusSchema, value);
  return result.success ? result.data : null;
}

function clipShown(text: string): string {
  // Control characters (escape sequences, newlines) from the worker never reach a terminal.
  const oneLine = Array.from(text, (char) => (char < " " || char === "\x7f" ? " " : char)).join("");
  return oneLine.length <= MAX_SHOWN_ERROR_CHARS ? oneLine : `${oneLine.slice(0, MAX_SHOWN_ERROR_CHARS - 1)}…`;
}
