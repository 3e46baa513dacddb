import { lstatSync } from "node:fs";
import { lstat, unlink } from "node:fs/promises";
import { createConnection, createServer, Socket, type Server } from "node:net";
import path from "node:path";
import type { ContainerRuntime, ExecStream } from "../../../core/instances/ports.ts";
import { decodeFrame, encodeFrame, HEARTBEAT_MS, MAX_FRAME_BYTES, MISSED_HEARTBEATS, RELAY_PROTOCOL_VERSION, type RelayFrame } from "../../../core/messaging/relay-frames.ts";
import { shownText } from "../../../core/messaging/shown-text.ts";
import { LineSplitter } from "../lines.ts";
import { assertPrivateFolder, messageOf, removeStaleSocket } from "../socket-file.ts";
import { RelayEndpoint, type EndpointStats } from "./endpoint.ts";
import { listenWithMode } from "./listen.ts";

/**
 * The host's end of a remote worker's message relay: makes the worker's
 * sockets appear in `hostDir` as they do for a local worker. It listens on
 * `<hostDir>/w.sock` (the host's clients dial it unchanged) and carries each
 * connection to the worker's supervisor; a connection the worker makes to its
 * c.sock reaches `<hostDir>/c.sock` (where the coordinator listens), and
 * nothing else: identity by channel holds. Everything the relay writes is
 * hostile input: a frame that fails its checks ends the exec with the reason.
 *
 * A lost exec (the relay killed, the engine's connection dropped, a missed
 * heartbeat, a protocol violation) is followed by a new one after an
 * exponential backoff; w.sock stays up meanwhile, and what the host's clients
 * send waits (within the bound) to be carried by the next relay.
 */

export type RelayState = "connecting" | "up" | "down" | "closed";

export interface RelayOptions {
  readonly runtime: Pick<ContainerRuntime, "execStream">;
  readonly containerId: string;
  /** The container user the relay runs as (the supervisor's, so it may dial w.sock). */
  readonly user: string;
  /** The host's directory for this instance: w.sock is served here, c.sock dialled here. */
  readonly hostDir: string;
  /** The relay's instance directory inside the container; /run/cspace unless given. */
  readonly containerDir?: string;
  readonly heartbeatMs?: number;
  /** The first wait after a loss; it doubles per loss in a row up to maxBackoffMs. */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** The mode of the host's w.sock; 0600 unless another user must dial it. */
  readonly socketMode?: number;
  readonly maxUnackedBytes?: number;
  /**
   * Whether the relay carries the container's c.sock to `<hostDir>/c.sock`
   * (default true: the coordinator's relay). A one-off relay (a command run
   * with no coordinator) says false: it carries only the host's channels to
   * w.sock, so it never takes c.sock from the coordinator's relay, and any
   * number of them can run beside it.
   */
  readonly coordinatorSocket?: boolean;
  /** One line per loss and per recovery (for the coordinator's log or the terminal). */
  readonly onNotice?: (text: string) => void;
  /** Every change of state, with the reason of a loss: how the coordinator's lost-worker probe learns the relay is down. */
  readonly onStateChange?: (state: RelayState, reason: string | null) => void;
}

export interface RelayStats extends EndpointStats {
  readonly state: RelayState;
  /** When the current state began (ms since the epoch). */
  readonly since: number;
  /** Execs started, and relay sessions met (a new relay process is a new session). */
  readonly execs: number;
  readonly sessions: number;
  readonly losses: number;
  readonly lastLoss: string | null;
  readonly openChannels: number;
  /** Clients of w.sock connected through it now (one that gave up is not: what it asked is never replayed to a new relay). */
  readonly localClients: number;
}

export interface RelayHandle {
  /** Resolves once w.sock is served on the host and the first relay said hello; rejects when w.sock cannot be served. */
  readonly ready: Promise<void>;
  stats(): RelayStats;
  /** Ends the exec (the relay exits on end of input), closes every channel and removes the host's w.sock. */
  close(): Promise<void>;
}

const RELAY_COMMAND = ["node", "/opt/cspace/worker.cjs", "relay"];
const STDERR_TAIL = 2048;

export function openRelay(options: RelayOptions): RelayHandle {
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
  const minBackoff = options.minBackoffMs ?? 250;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  const wSock = path.join(options.hostDir, "w.sock");
  const cSock = path.join(options.hostDir, "c.sock");
  const counts = { execs: 0, sessions: 0, losses: 0 };
  let state: RelayState = "connecting";
  let since = Date.now();
  let lastLoss: string | null = null;
  let session: string | null = null;
  let current: { stream: ExecStream; lose: (reason: string) => void } | null = null;
  let lossesInARow = 0;
  let retry: NodeJS.Timeout | null = null;
  let server: Server | null = null;
  let inode: number | null = null;
  let markReady: () => void = () => undefined;
  let failReady: (error: unknown) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  ready.catch(() => undefined);

  // Read through a function: the state changes while startExec awaits, which narrowing cannot see.
  const isClosed = (): boolean => state === "closed";
  const setState = (next: RelayState, reason: string | null): void => {
    if (state === next) return;
    state = next;
    since = Date.now();
    options.onStateChange?.(next, reason);
  };

  const endpoint = new RelayEndpoint({
    self: "host",
    maxUnackedBytes: options.maxUnackedBytes,
    // A one-off relay has no c.sock in the container: a channel it opens anyway ends at once, as when nobody listens.
    dial: () => (options.coordinatorSocket === false ? new Socket().destroy() : dialCoordinator(cSock)),
    onViolation: (reason) => {
      current?.lose(`the relay broke the protocol: ${reason}`);
    },
  });

  const startExec = async (): Promise<void> => {
    retry = null;
    if (state === "closed") return;
    counts.execs += 1;
    let stream: ExecStream;
    try {
      stream = await options.runtime.execStream(options.containerId, [...RELAY_COMMAND, "--dir", options.containerDir ?? "/run/cspace", "--heartbeat-ms", String(heartbeatMs), ...(options.coordinatorSocket === false ? ["--no-c-sock"] : [])], { user: options.user });
    } catch (error) {
      lost(`cannot start the relay: ${messageOf(error)}`);
      return;
    }
    if (isClosed()) {
      stream.stdin.end();
      return;
    }
    let over = false;
    let helloSeen = false;
    let lastHeard = Date.now();
    let stderr = "";
    const write = (line: string): void => {
      if (!over) stream.stdin.write(line);
    };
    const heartbeat = setInterval(() => {
      if (Date.now() - lastHeard > heartbeatMs * MISSED_HEARTBEATS) lose(`no heartbeat from the relay for ${String(heartbeatMs * MISSED_HEARTBEATS)} ms`);
      else if (helloSeen) write(encodeFrame(endpoint.ack()));
    }, heartbeatMs);
    const lose = (reason: string): void => {
      if (over) return;
      over = true;
      clearInterval(heartbeat);
      endpoint.detach();
      current = null;
      stream.close();
      const said = stderr.trim();
      lost(said === "" ? reason : `${reason} (the relay said: ${said.slice(-400)})`);
    };
    current = { stream, lose };
    const handle = (frame: RelayFrame): void => {
      if (frame.t === "hello") {
        if (helloSeen) {
          lose("the relay broke the protocol: it said hello twice");
          return;
        }
        helloSeen = true;
        const sameSession = frame.session === session;
        if (!sameSession) counts.sessions += 1;
        session = frame.session;
        write(encodeFrame({ t: "hello", v: RELAY_PROTOCOL_VERSION, session: frame.session, recv: sameSession ? endpoint.received : 0 }));
        if (sameSession) {
          if (!endpoint.resume(write, frame.recv)) return;
        } else {
          endpoint.restart(write);
        }
        if (lossesInARow > 0) options.onNotice?.(`the message relay to container ${options.containerId.slice(0, 12)} is back`);
        lossesInARow = 0;
        setState("up", null);
        markReady();
        return;
      }
      if (!helloSeen) {
        lose(`the relay broke the protocol: it sent ${frame.t} before its hello`);
        return;
      }
      if (frame.t === "ack") endpoint.acknowledge(frame.a);
      else endpoint.receive(frame);
    };
    const splitter = new LineSplitter(MAX_FRAME_BYTES, {
      line(text) {
        if (over || text.trim() === "") return;
        lastHeard = Date.now();
        const decoded = decodeFrame(text);
        if (decoded.ok) handle(decoded.frame);
        else lose(`the relay broke the protocol: ${decoded.reason}`);
      },
      overflow() {
        lose(`the relay broke the protocol: a frame is longer than ${String(MAX_FRAME_BYTES)} bytes`);
      },
    });
    stream.stdout.on("data", (chunk: Buffer) => {
      splitter.push(chunk);
    });
    stream.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-STDERR_TAIL);
    });
    stream.stdout.on("end", () => {
      lose("the relay's exec ended");
    });
    stream.exit.catch(() => undefined);
  };

  const lost = (said: string): void => {
    if (state === "closed") return;
    // The reason quotes what the worker side wrote (a frame, the relay's stderr): shown to people, so made terminal-safe.
    const reason = shownText(said, 600);
    counts.losses += 1;
    lossesInARow += 1;
    lastLoss = reason;
    const wait = Math.min(maxBackoff, minBackoff * 2 ** Math.min(lossesInARow - 1, 20));
    options.onNotice?.(`the message relay to container ${options.containerId.slice(0, 12)} is down: ${reason}; trying again in ${String(wait)} ms`);
    setState("down", reason);
    retry = setTimeout(() => void startExec(), wait);
  };

  const listening = (async () => {
    await assertPrivateFolder(wSock);
    await removeStaleSocket(wSock);
    server = createServer({ allowHalfOpen: true }, (socket: Socket) => {
      endpoint.adopt(socket);
    });
    await listenWithMode(server, wSock, options.socketMode ?? 0o600);
    inode = (await lstat(wSock)).ino;
  })();
  listening.then(() => void startExec(), (error: unknown) => {
    setState("closed", messageOf(error));
    failReady(error);
  });

  return {
    ready,
    stats: () => ({ ...endpoint.stats, ...counts, state, since, lastLoss, openChannels: endpoint.openChannels, localClients: endpoint.localClients }),
    async close() {
      if (state === "closed") return;
      setState("closed", null);
      if (retry !== null) clearTimeout(retry);
      await listening.catch(() => undefined);
      // Stop taking clients first, so none arrives after the open ones are closed.
      const open = server;
      const stopped = open === null ? Promise.resolve() : new Promise<void>((resolve) => open.close(() => { resolve(); }));
      const running = current;
      current = null;
      endpoint.detach();
      endpoint.destroyAll();
      if (running !== null) {
        running.stream.stdin.end();
        // The relay exits on end of input; an engine that does not pass the end on is cut off.
        await Promise.race([running.stream.exit.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
        running.stream.close();
      }
      await stopped;
      const now = await lstat(wSock).catch(() => null);
      if (now !== null && now.ino === inode) await unlink(wSock).catch(() => undefined);
    },
  };
}

/** The coordinator's socket for this instance and nothing else; a link or a file planted there is not dialled. */
function dialCoordinator(cSock: string): Socket {
  const stats = lstatSync(cSock, { throwIfNoEntry: false });
  if (stats !== undefined && !stats.isSocket()) {
    // A socket that never connects: the channel ends at once, as when nobody listens.
    return new Socket().destroy();
  }
  return createConnection({ path: cSock, allowHalfOpen: true });
}
