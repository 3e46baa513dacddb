import { randomBytes } from "node:crypto";
import { createConnection, createServer, type Socket } from "node:net";
import path from "node:path";
import { INSTANCE_DIR_IN_CONTAINER } from "../core/messaging/layout.ts";
import { decodeFrame, encodeFrame, HEARTBEAT_MS, MAX_FRAME_BYTES, MISSED_HEARTBEATS, RELAY_PROTOCOL_VERSION, type RelayFrame } from "../core/messaging/relay-frames.ts";
import { LineSplitter } from "../adapters/messaging/lines.ts";
import { RelayEndpoint } from "../adapters/messaging/relay/endpoint.ts";
import { listenWithMode } from "../adapters/messaging/relay/listen.ts";
import { assertPrivateFolder, messageOf, removeStaleSocket } from "../adapters/messaging/socket-file.ts";

/**
 * The relay role (`worker.cjs relay [--dir D] [--heartbeat-ms N]`): started by
 * the host in a remote worker through a long-lived exec, it listens on the
 * instance's c.sock (inside the container now) and carries each connection to
 * the host, and dials w.sock for each channel the host opens; frames on its
 * stdin and stdout (docs/protocol.md, "The message relay").
 *
 * With `--no-c-sock` it carries only the host's channels to w.sock and leaves
 * c.sock alone: a one-off relay (a `cspace send` with no coordinator running)
 * must neither take the coordinator's relay's c.sock nor fail for want of it,
 * so any number of them can run beside the one relay that serves c.sock.
 *
 * It exits 0 on end of input (the host closed the exec), 5 when the host has
 * been silent for MISSED_HEARTBEATS heartbeats (an exec whose client vanished
 * would otherwise run for ever), 6 when the host broke the protocol, 2 on bad
 * usage, 3 when c.sock cannot be served.
 */

export interface RelayIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export const RELAY_USAGE = "usage: worker.cjs relay [--dir <instance dir>] [--heartbeat-ms <ms>] [--no-c-sock]\n";

export async function runRelay(args: readonly string[], io: RelayIo): Promise<number> {
  const parsed = parseArgs(args);
  if (parsed === null) {
    io.stderr.write(RELAY_USAGE);
    return 2;
  }
  const { dir, heartbeatMs, serveCSock } = parsed;
  const session = randomBytes(12).toString("hex");
  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => {
    finish = resolve;
  });
  let done = false;
  const stop = (code: number, why: string | null): void => {
    if (done) return;
    done = true;
    if (why !== null) io.stderr.write(`relay: ${why}\n`);
    finish(code);
  };
  const write = (line: string): void => {
    if (!done) io.stdout.write(line);
  };
  const endpoint = new RelayEndpoint({
    self: "relay",
    dial: () => createConnection({ path: path.join(dir, "w.sock"), allowHalfOpen: true }),
    onViolation: (reason) => {
      stop(6, `the host broke the relay protocol: ${reason}`);
    },
  });

  const server = createServer({ allowHalfOpen: true }, (socket: Socket) => {
    endpoint.adopt(socket);
  });
  const cSock = path.join(dir, "c.sock");
  if (serveCSock) {
    try {
      await assertPrivateFolder(cSock);
      await removeStaleSocket(cSock);
      await listenWithMode(server, cSock, 0o600);
    } catch (error) {
      io.stderr.write(`relay: cannot serve ${cSock}: ${messageOf(error)}\n`);
      return 3;
    }
  }

  let lastHeard = Date.now();
  let helloDone = false;
  const splitter = new LineSplitter(MAX_FRAME_BYTES, {
    line(text) {
      if (done || text.trim() === "") return;
      lastHeard = Date.now();
      const decoded = decodeFrame(text);
      if (!decoded.ok) {
        stop(6, `the host broke the relay protocol: ${decoded.reason}`);
        return;
      }
      handle(decoded.frame);
    },
    overflow() {
      stop(6, `the host sent a frame longer than ${String(MAX_FRAME_BYTES)} bytes`);
    },
  });
  const handle = (frame: RelayFrame): void => {
    if (frame.t === "hello") {
      if (helloDone || frame.session !== session) {
        stop(6, helloDone ? "the host said hello twice" : `the host answered session ${frame.session}, not ${session}`);
        return;
      }
      helloDone = true;
      endpoint.resume(write, frame.recv);
      return;
    }
    if (!helloDone) {
      stop(6, `the host sent ${frame.t} before its hello`);
      return;
    }
    if (frame.t === "ack") endpoint.acknowledge(frame.a);
    else endpoint.receive(frame);
  };

  io.stdin.on("data", (chunk: Buffer) => {
    splitter.push(chunk);
  });
  io.stdin.on("end", () => {
    stop(0, null);
  });
  io.stdin.on("error", () => {
    stop(0, null);
  });
  io.stdout.on("error", () => {
    stop(0, null);
  });
  const heartbeat = setInterval(() => {
    if (Date.now() - lastHeard > heartbeatMs * MISSED_HEARTBEATS) {
      stop(5, `no word from the host for ${String(heartbeatMs * MISSED_HEARTBEATS)} ms`);
      return;
    }
    if (helloDone) write(encodeFrame(endpoint.ack()));
  }, heartbeatMs);

  write(encodeFrame({ t: "hello", v: RELAY_PROTOCOL_VERSION, session, recv: 0 }));
  const code = await finished;
  clearInterval(heartbeat);
  endpoint.destroyAll();
  if (serveCSock) await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  return code;
}

function parseArgs(args: readonly string[]): { dir: string; heartbeatMs: number; serveCSock: boolean } | null {
  let dir = INSTANCE_DIR_IN_CONTAINER;
  let heartbeatMs = HEARTBEAT_MS;
  let serveCSock = true;
  for (let at = 0; at < args.length; at += 1) {
    if (args[at] === "--no-c-sock") {
      serveCSock = false;
      continue;
    }
    const value = args[at + 1];
    if (value === undefined) return null;
    if (args[at] === "--dir") dir = value;
    else if (args[at] === "--heartbeat-ms" && /^[1-9][0-9]{0,6}$/.test(value)) heartbeatMs = Number(value);
    else return null;
    at += 1;
  }
  return { dir, heartbeatMs, serveCSock };
}
