import type { Readable, Writable } from "node:stream";
import type { Exec, V1Status } from "@kubernetes/client-node";

export interface PodExecStreams {
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** null: the command gets no input. Its end is sent as v5's close-stdin frame, so the command sees end of input. */
  readonly stdin: Readable | null;
  readonly tty?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface PodExecRun {
  /** The Status the API server sent on channel 3, or null when the connection ended without one. */
  readonly status: Promise<V1Status | null>;
  /** Drops the connection at once. */
  close(): void;
}

/**
 * One exec over the client's WebSocket. The client offers v5.channel.k8s.io
 * first; only v5 can close stdin without closing the connection (earlier
 * versions close the socket on end of input and lose the exit status), so a
 * server that picks an older one is refused when input is streamed.
 */
export async function runPodExec(exec: Exec, streams: PodExecStreams, target: { namespace: string; pod: string; container: string; command: string[] }): Promise<PodExecRun> {
  let status: V1Status | null = null;
  const opened: unknown = await exec.exec(target.namespace, target.pod, target.container, target.command, streams.stdout, streams.stderr, streams.stdin, streams.tty ?? false, (s) => {
    status = s;
  });
  // The client's type for it is the `ws` package's, whose types are not installed: what is used of it, typed here.
  const socket = opened as ExecSocket;
  if (streams.stdin !== null && socket.protocol !== "v5.channel.k8s.io") {
    socket.close();
    throw new Error(`the API server speaks ${socket.protocol === "" ? "no channel protocol" : socket.protocol}, not v5.channel.k8s.io, so a command's input cannot be closed (Kubernetes 1.30 or later speaks it)`);
  }
  const close = (): void => {
    socket.close();
  };
  streams.signal?.addEventListener("abort", close, { once: true });
  const ended = new Promise<V1Status | null>((resolve) => {
    const finish = (): void => {
      streams.signal?.removeEventListener("abort", close);
      // Without a status the client does not end the outputs itself: a reader waiting for their end must not hang.
      if (!streams.stdout.writableEnded) streams.stdout.end();
      if (!streams.stderr.writableEnded) streams.stderr.end();
      resolve(status);
    };
    if (socket.readyState === socket.CLOSED) finish();
    else socket.addEventListener("close", finish);
  });
  return { status: ended, close };
}

/** The part of a `ws` WebSocket an exec uses. */
interface ExecSocket {
  readonly protocol: string;
  readonly readyState: number;
  readonly CLOSED: number;
  close(): void;
  addEventListener(type: "close", listener: () => void): void;
}

/** The exit code a Status reports: 0 for Success, the ExitCode cause of NonZeroExitCode; null when it says no code. */
export function exitCodeOf(status: V1Status): number | null {
  if (status.status === "Success") return 0;
  if (status.reason !== "NonZeroExitCode") return null;
  const cause = status.details?.causes?.find((c) => c.reason === "ExitCode");
  const code = Number(cause?.message);
  return Number.isInteger(code) ? code : null;
}
