import type { Readable, Writable } from "node:stream";
import type { ExecStream } from "../../../core/instances/ports.ts";
import { spawnGit } from "../run-git.ts";

/**
 * Runs a git command on this machine whose remote is a git program running
 * in a container (`git upload-pack` or `git receive-pack`, started by the
 * engine's exec stream): git's own pack protocol, carried over the engine's
 * API, with no port opened and no filesystem shared.
 *
 * Git reaches the remote through `git-remote-ext` (an `ext::` URL, allowed
 * with `-c protocol.ext.allow=always` on this one command only). Its command
 * is a fixed `sh` that joins git's pipes to two extra descriptors this
 * process holds (3: what the remote says, 4: what git says to it); nothing
 * the remote sends becomes part of a command line.
 *
 * What the remote sends is counted: past `maxBytes` the transfer is stopped,
 * as it is after `stallMs` without a byte, or `totalMs` in all. A stopped
 * transfer kills git and drops the exec, and the caller cleans up whatever
 * git had begun to write.
 */

/** Joins git's side of the ext transport to descriptors 3 (in) and 4 (out); `wait` keeps it alive until both directions end. */
export const EXT_BRIDGE_URL = "ext::sh -c cat% <&3% &% cat% >&4;% wait";

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
  /** git's arguments; EXT_BRIDGE_URL stands where the remote's URL goes. */
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>>;
  /** The remote git program, already started. */
  readonly remote: ExecStream;
  readonly limits: TransferLimits;
  readonly signal?: AbortSignal | undefined;
}

/** Resolves when git exits by itself; rejects with TransferStopped when a limit stopped it, or the signal's reason. */
export function gitOverExec(options: GitOverExecOptions): Promise<TransferResult> {
  const { remote, limits, signal } = options;
  const child = spawnGit(["-c", "protocol.ext.allow=always", "-c", "protocol.version=0", ...options.args], {
    cwd: options.cwd,
    ...(options.env === undefined ? {} : { env: options.env }),
    stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"],
  });
  const fromRemote = child.stdio[3] as Writable;
  const toRemote = child.stdio[4] as Readable;
  const stderr = tail(child.stderr as Readable);
  const remoteStderr = tail(remote.stderr as Readable);
  let bytes = 0;
  let stopped: Error | null = null;

  return new Promise<TransferResult>((resolve, reject) => {
    const stop = (error: Error): void => {
      if (stopped !== null) return;
      stopped = error;
      remote.close();
      child.kill("SIGKILL");
    };
    const total = setTimeout(() => stop(new TransferStopped("timed-out", bytes)), limits.totalMs);
    let stall = setTimeout(() => stop(new TransferStopped("stalled", bytes)), limits.stallMs);
    const onAbort = (): void => stop(abortReason(signal));
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted === true) onAbort();

    // Broken pipes follow a stop or git's exit; the exit says what happened.
    fromRemote.on("error", ignore);
    toRemote.on("error", ignore);
    remote.stdin.on("error", ignore);
    toRemote.pipe(remote.stdin as Writable);

    const source = remote.stdout as Readable;
    source.on("data", (chunk: Buffer) => {
      if (stopped !== null) return;
      bytes += chunk.length;
      if (bytes > limits.maxBytes) {
        stop(new TransferStopped("too-large", bytes));
        return;
      }
      clearTimeout(stall);
      stall = setTimeout(() => stop(new TransferStopped("stalled", bytes)), limits.stallMs);
      if (!fromRemote.write(chunk)) {
        source.pause();
        fromRemote.once("drain", () => source.resume());
      }
    });
    source.on("end", () => fromRemote.end());

    child.on("error", (error) => stop(error));
    child.on("close", (code) => {
      clearTimeout(total);
      clearTimeout(stall);
      signal?.removeEventListener("abort", onAbort);
      // git is done: a remote that goes on talking (or never ends) is dropped.
      remote.close();
      if (stopped !== null) {
        reject(stopped);
        return;
      }
      resolve({ exitCode: code ?? -1, stderr: stderr(), remoteStderr: remoteStderr(), bytes });
    });
  });
}

/** The last KEEP_STDERR bytes a stream wrote, as text. */
function tail(stream: Readable): () => string {
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
