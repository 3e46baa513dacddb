import path from "node:path";
import type { WorkerStatus } from "../../core/agents/worker-status.ts";
import { INSTANCE_DIR_IN_CONTAINER, INSTANCE_FILES } from "../../core/messaging/layout.ts";
import type { Reply, Request } from "../../core/messaging/protocol.ts";
import { newRequestId, request } from "../../adapters/messaging/client.ts";
import { MessagingError, NobodyListeningError } from "../../adapters/messaging/errors.ts";
import { writeFileAtomic } from "../../shared/atomic-file.ts";

/**
 * The `cspace` a worker's agent has on its PATH (/usr/local/bin/cspace runs
 * `node /opt/cspace/worker.cjs cli "$@"`). It reaches only this instance's
 * own directory: `_coordinator` is this worker's coordinator socket, and
 * `status` asks this worker's supervisor. Exit codes match the host CLI:
 * 0 done, 2 bad usage or an empty message, 3 nobody listening.
 */

export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdin: NodeJS.ReadableStream;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

export const CliExit = { ok: 0, usage: 2, unreachable: 3 } as const;

const USAGE = `usage (inside a cspace worker):
  cspace send _coordinator "<message>"    message this worker's coordinator
  cspace send _coordinator -              the message is read from stdin
  cspace status [--json]                  this worker's agent, as its supervisor sees it
  cspace blocked "<reason>"               declare that you cannot go on, then exit;
                                          the supervisor reports you blocked with that reason
`;

const SEND_TIMEOUT_MS = 10_000;

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const dir = instanceDir(io.env);
  const json = argv.includes("--json");
  const args = argv.filter((arg) => arg !== "--json");
  const [command, ...rest] = args;
  switch (command) {
    case "send":
      return send(rest, dir, json, io);
    case "status":
      return rest.length === 0 ? status(dir, json, io) : usage(io, `status takes no arguments (got ${rest.join(" ")})`);
    case "blocked":
      return blocked(rest, dir, io);
    case "help":
    case "--help":
    case "-h":
      io.out(USAGE);
      return CliExit.ok;
    case undefined:
      return usage(io, "a command is missing");
    default:
      return usage(io, `unknown command ${JSON.stringify(command)}`);
  }
}

/** CSPACE_INSTANCE_DIR (set by the supervisor for its agent; tests on the host), else /run/cspace. */
export function instanceDir(env: Readonly<Record<string, string | undefined>>): string {
  const dir = env.CSPACE_INSTANCE_DIR;
  return dir === undefined || dir === "" ? INSTANCE_DIR_IN_CONTAINER : dir;
}

async function send(args: readonly string[], dir: string, json: boolean, io: CliIo): Promise<number> {
  const [target, ...words] = args;
  if (target === undefined) return usage(io, "send needs a target (_coordinator) and a message");
  if (target !== "_coordinator") {
    return usage(io, `inside a worker only _coordinator can be reached (got ${JSON.stringify(target)}); the coordinator passes messages on`);
  }
  if (words.length === 0) return usage(io, 'send needs a message: cspace send _coordinator "<message>" (or - to read it from stdin)');
  const text = words.length === 1 && words[0] === "-" ? await readAll(io.stdin) : words.join(" ");
  if (text.trim() === "") return usage(io, "the message is empty; nothing was sent");
  const from = io.env.CSPACE_INSTANCE;
  const socket = path.join(dir, INSTANCE_FILES.coordinatorSocket);
  return ask(socket, { v: 1, id: newRequestId(), cmd: "send", text, ...(from === undefined || from === "" ? {} : { from }) }, "the coordinator", io, (reply) => {
    io.out(json ? `${JSON.stringify(reply)}\n` : "sent to the coordinator\n");
  });
}

async function status(dir: string, json: boolean, io: CliIo): Promise<number> {
  const socket = path.join(dir, INSTANCE_FILES.workerSocket);
  return ask(socket, { v: 1, id: newRequestId(), cmd: "status" }, "this worker's supervisor", io, (reply) => {
    const value = (reply as { status?: WorkerStatus }).status;
    io.out(json || value === undefined ? `${JSON.stringify(value ?? reply)}\n` : describe(value));
  });
}

function blocked(args: readonly string[], dir: string, io: CliIo): number {
  const reason = args.join(" ").trim();
  if (reason === "") return usage(io, 'blocked needs a reason: cspace blocked "<what you need and from whom>"');
  try {
    writeFileAtomic(path.join(dir, INSTANCE_FILES.blocked), `${JSON.stringify({ reason, at: new Date().toISOString() })}\n`, { durable: true, mode: 0o600 });
  } catch (error) {
    io.err(`cspace: cannot record that you are blocked in ${dir}: ${error instanceof Error ? error.message : String(error)}\n`);
    return CliExit.unreachable;
  }
  io.out("recorded: exit now, and your supervisor reports you blocked with that reason\n");
  return CliExit.ok;
}

async function ask(socket: string, message: Request, who: string, io: CliIo, onOk: (reply: Reply) => void): Promise<number> {
  let reply: Reply;
  try {
    reply = await request(socket, message, { timeoutMs: SEND_TIMEOUT_MS });
  } catch (error) {
    if (error instanceof NobodyListeningError) {
      const hint = message.cmd === "send" ? " No coordinator runs for this worker right now: put what matters in your final message instead." : "";
      io.err(`cspace: ${who} is not listening (${socket}); nothing was sent.${hint}\n`);
      return CliExit.unreachable;
    }
    io.err(`cspace: ${error instanceof MessagingError ? error.message : String(error)}\n`);
    return CliExit.unreachable;
  }
  if (!reply.ok) {
    io.err(`cspace: ${who} refused: ${reply.error.message} (${reply.error.code})\n`);
    return reply.error.code === "bad-request" ? CliExit.usage : CliExit.unreachable;
  }
  onOk(reply);
  return CliExit.ok;
}

function describe(status: WorkerStatus): string {
  const state = status.state === "exited" ? `exited ${status.exitCode === null ? (status.signal ?? "?") : String(status.exitCode)}` : status.state;
  const cost = status.costUsd === null ? "" : `  cost $${status.costUsd.toFixed(2)}`;
  const head = status.headSha === null ? "" : ` @ ${status.headSha.slice(0, 10)}`;
  return `${status.instance}  ${status.preset}  ${state}  turns ${String(status.turns)}${cost}  queue ${String(status.queueDepth)}  ${status.branch}${head}  last activity ${status.lastActivity}\n`;
}

function usage(io: CliIo, problem: string): number {
  io.err(`cspace: ${problem}\n\n${USAGE}`);
  return CliExit.usage;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}
