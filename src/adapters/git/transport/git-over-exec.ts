import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import type { ExecStream } from "../../../core/instances/ports.ts";
import { spawnGit } from "../run-git.ts";

/**
 * Runs a git command on this machine whose remote is a git program running
 * in a container (`git upload-pack` or `git receive-pack`, started by the
 * engine's exec stream): git's own pack protocol, carried over the engine's
 * API, with no port opened on any host and no filesystem shared.
 *
 * Git reaches the remote through `git-remote-ext` (an `ext::` URL, allowed
 * with `-c protocol.ext.allow=always` on this one command only). Its command
 * is a fixed Node one-liner that joins git's pipes to a Unix socket this
 * process listens on, in a directory only this user can enter; nothing the
 * remote sends becomes part of a command line. A socket, rather than
 * inherited pipes, because git's end of the conversation must be able to
 * end on its own: git closing its side reaches the remote as end of input
 * (upload-pack then exits), while descriptors handed down would stay open
 * in git itself until it exits, and it waits for its remote first.
 *
 * What the remote sends is counted: past `maxBytes` the transfer is stopped,
 * as it is after `stallMs` without a byte, or `totalMs` in all. A stopped
 * transfer kills git and drops the exec, and the caller cleans up whatever
 * git had begun to write.
 */

/** The ext command's program: stdin to the socket (ending it when git ends), the socket to stdout, exit when the socket ends. */
const BRIDGE_SCRIPT =
  'const s=require("net").connect(process.argv[1]);process.stdin.pipe(s);s.pipe(process.stdout,{end:false});s.on("end",()=>process.stdout.write("",()=>process.exit(0)));s.on("error",()=>process.exit(1))';

/** git-remote-ext splits its command on spaces; `% ` is a space and `%%` a percent sign. */
function extEscape(text: string): string {
  return text.replace(/%/g, "%%").replace(/ /g, "% ");
}

/** The URL git is given where the remote's would go. */
export const REMOTE_URL = "<remote>";

function bridgeUrl(socketPath: string): string {
  return `ext::${[process.execPath, "-e", BRIDGE_SCRIPT, socketPath].map(extEscape).join(" ")}`;
}

export interface TransferLimits {
  readonly maxBytes: number;
  readonly stallMs: number;
  readonly totalMs: number;
}

export type StopReason = "too-large" | "stalled" | "timed-out";

/** The transfer was stopped by its limits (never by git): what the caller turns into a message. */
export class TransferStopped extends Error {
  readonly reason: StopReason;
  readonly bytes: number;
  constructor(reason: StopReason, bytes: number) {
    super(`transfer stopped: ${reason} after ${String(bytes)} bytes`);
    this.reason = reason;
    this.bytes = bytes;
  }
}

export interface TransferResult {
  /** git's exit code on this machine. */
  readonly exitCode: number;
  /** The tail of git's stderr on this machine. */
  readonly stderr: string;
  /** The tail of the remote command's stderr. */
  readonly remoteStderr: string;
  /** Bytes the remote sent. */
  readonly bytes: number;
}

const KEEP_STDERR = 64 * 1024;

export interface GitOverExecOptions {
  /** git's arguments; REMOTE_URL stands where the remote's URL goes. */
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>>;
  /** The remote git program, already started. */
  readonly remote: ExecStream;
  readonly limits: TransferLimits;
  readonly signal?: AbortSignal | undefined;
}

/** Resolves when git exits by itself; rejects with TransferStopped when a limit stopped it, or the signal's reason. */
export async function gitOverExec(options: GitOverExecOptions): Promise<TransferResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "cspace-git-"));
  try {
    const socketPath = path.join(dir, "remote.sock");
    const server = createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socketPath, resolve);
    });
    try {
      return await transfer(options, server, bridgeUrl(socketPath));
    } finally {
      server.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function transfer(options: GitOverExecOptions, server: Server, url: string): Promise<TransferResult> {
  const { remote, limits, signal } = options;
  const args = options.args.map((arg) => (arg === REMOTE_URL ? url : arg));
  const child = spawnGit(["-c", "protocol.ext.allow=always", "-c", "protocol.version=0", ...args], {
    cwd: options.cwd,
    ...(options.env === undefined ? {} : { env: options.env }),
    stdio: ["ignore", "ignore", "pipe"],
  });
  const stderr = child.stderr === null ? () => "" : tail(child.stderr);
  const remoteStderr = tail(remote.stderr);
  let bytes = 0;
  let stopped: Error | null = null;
  let connection: Socket | null = null;

  return new Promise<TransferResult>((resolve, reject) => {
    const stop = (error: Error): void => {
      if (stopped !== null) return;
      stopped = error;
      remote.close();
      connection?.destroy();
      child.kill("SIGKILL");
    };
    const stalled = (): void => {
      stop(new TransferStopped("stalled", bytes));
    };
    const total = setTimeout(() => {
      stop(new TransferStopped("timed-out", bytes));
    }, limits.totalMs);
    // The stall clock starts once git's side is connected: starting git and its bridge is this machine's time, not the remote's.
    let stall: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      stop(abortReason(signal));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted === true) onAbort();
    remote.stdin.on("error", ignore);

    server.on("connection", (socket: Socket) => {
      // One conversation: a second connection (nothing but git's ext command knows the path) is refused.
      if (connection !== null || stopped !== null) {
        socket.destroy();
        return;
      }
      connection = socket;
      stall = setTimeout(stalled, limits.stallMs);
      socket.on("error", ignore);
      // git ending its side is the remote's end of input.
      socket.on("data", (chunk: Buffer) => {
        if (!remote.stdin.write(chunk)) {
          socket.pause();
          remote.stdin.once("drain", () => {
            socket.resume();
          });
        }
      });
      socket.on("end", () => remote.stdin.end());
      const source = remote.stdout;
      source.on("data", (chunk: Buffer) => {
        if (stopped !== null) return;
        bytes += chunk.length;
        if (bytes > limits.maxBytes) {
          stop(new TransferStopped("too-large", bytes));
          return;
        }
        clearTimeout(stall);
        stall = setTimeout(stalled, limits.stallMs);
        if (!socket.write(chunk)) {
          source.pause();
          socket.once("drain", () => {
            source.resume();
          });
        }
      });
      source.on("end", () => {
        socket.end();
      });
    });

    child.on("error", (error) => {
      stop(error);
    });
    child.on("close", (code) => {
      clearTimeout(total);
      clearTimeout(stall);
      signal?.removeEventListener("abort", onAbort);
      // git is done: a remote that goes on talking (or never ends) is dropped.
      remote.close();
      connection?.destroy();
      if (stopped !== null) {
        reject(stopped);
        return;
      }
      resolve({ exitCode: code ?? -1, stderr: stderr(), remoteStderr: remoteStderr(), bytes });
    });
  });
}
/** The last KEEP_STDERR bytes a stream wrote, as text. */
function tail(stream: NodeJS.ReadableStream): () => string {
  let kept = Buffer.alloc(0);
  stream.on("data", (chunk: Buffer) => {
    kept = Buffer.concat([kept, chunk]);
    if (kept.length > KEEP_STDERR) kept = kept.subarray(kept.length - KEEP_STDERR);
  });
  stream.on("error", () => undefined);
  return () => kept.toString("utf8");
}

function ignore(): void {
  // A broken pipe after a stop or git's exit: the exit says what happened.
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error(`aborted: ${String(reason)}`);
}
