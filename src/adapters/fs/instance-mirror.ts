import { lstat } from "node:fs/promises";
import { ExternalError } from "../../core/errors.ts";
import type { ContainerRuntime, ExecStream } from "../../core/instances/ports.ts";
import { base64Length, MIRROR_PROTOCOL_VERSION, MIRROR_STREAM, MirrorLedger, parseWorkerFrame, type HostFrame, type MirrorLimits, type WorkerFrame } from "../../core/instances/mirror-protocol.ts";
import { INSTANCE_DIR_IN_CONTAINER, WORKER_BUNDLE_DIR } from "../../core/messaging/layout.ts";
import { LineSplitter } from "../messaging/lines.ts";
import { applyMirrorChange, heldFiles, MIRROR_LIMITS } from "./mirror-files.ts";

/**
 * The host's end of the instance-directory mirror (docs/architecture.md,
 * "The instance-directory mirror"): a remote worker's /run/cspace copied
 * into the host's `<run dir>/<instance>/`, so every reader of that directory
 * (logs, list, status, the coordinator's outbox, stall watch and probes)
 * works as for a local worker. It runs `worker.cjs mirror` in the container
 * over `ContainerRuntime.execStream`, tells it what the host holds (so a
 * restart resends only what is missing), and applies the changes it streams.
 *
 * The stream is hostile: every frame is checked (core/instances/mirror-protocol.ts:
 * known names only, appends at the host's offset, limits per file, on the
 * number of files and on their total) and written with untrusted-dir's care
 * (mirror-files.ts). The first refusal, a missed heartbeat or the command's
 * end makes the mirror lost: nothing more is written, and `onLost` says why.
 * Here, in adapters/fs, because what it defends is the host's filesystem.
 */

export interface InstanceMirrorOptions {
  readonly runtime: ContainerRuntime;
  readonly containerId: string;
  /** The container user the mirror runs as (a name or uid[:gid]). */
  readonly user?: string | undefined;
  /** The host's copy: `<run dir>/<instance>/`, which must exist. */
  readonly hostDir: string;
  /** How often the container's mirror scans whatever fs.watch said (default 1000 ms). */
  readonly pollMs?: number | undefined;
  /** Heartbeats each way this often (default MIRROR_STREAM.beatMs); three missed and the other end is gone. */
  readonly beatMs?: number | undefined;
  /** What the worker's mirror left out and why (a link, a FIFO, a file past its limit), for the operator. */
  readonly onNote?: ((text: string) => void) | undefined;
  /** The command to run (tests); default `node /opt/cspace/worker.cjs mirror /run/cspace …`. */
  readonly command?: readonly string[] | undefined;
  readonly limits?: MirrorLimits | undefined;
}

export interface InstanceMirror {
  /** Resolves once everything the container's directory held when this was called is in the host's copy; rejects with the MirrorLostError if the mirror is lost first. */
  synced(): Promise<void>;
  /** Ends the mirror (the command in the container sees end of input and exits). */
  close(): Promise<void>;
  /** Called once, with why, when the mirror stops without close(); at once when it already has. */
  onLost(listener: (error: MirrorLostError) => void): void;
  /** Why the mirror stopped, or null while it runs. */
  readonly lost: MirrorLostError | null;
}

/** The mirror stopped: the worker sent what the host refuses, went silent, or its command ended. */
export class MirrorLostError extends ExternalError {
  constructor(hostDir: string, why: string) {
    super(`the mirror of ${hostDir} stopped: ${why}`, { hint: "the worker's files on the host stay as they were; open the mirror again to resume it (it resends only what is missing), or treat the worker as lost" });
  }
}

/** Lines waiting to be applied before stdout is paused (a fast worker must not fill the host's memory). */
const QUEUE_HIGH = 16;

export async function openInstanceMirror(options: InstanceMirrorOptions): Promise<InstanceMirror> {
  const limits = options.limits ?? MIRROR_LIMITS;
  const dir = await lstat(options.hostDir).catch(() => null);
  if (dir?.isDirectory() !== true) {
    throw new ExternalError(`cannot mirror a worker's files into ${options.hostDir}: it is not a directory`, { hint: "the instance directory is made when the instance is (ensureInstanceDir); make it before opening the mirror" });
  }
  const held = await heldFiles(options.hostDir, limits);
  const beatMs = options.beatMs ?? MIRROR_STREAM.beatMs;
  const command = options.command ?? ["node", `${WORKER_BUNDLE_DIR}/worker.cjs`, "mirror", INSTANCE_DIR_IN_CONTAINER, "--poll-ms", String(options.pollMs ?? 1000), "--beat-ms", String(beatMs)];
  const stream = await options.runtime.execStream(options.containerId, command, { user: options.user });
  const mirror = new HostMirror(options, stream, new MirrorLedger(limits, held), beatMs);
  mirror.send({ t: "have", v: MIRROR_PROTOCOL_VERSION, limits, files: held });
  return mirror;
}

class HostMirror implements InstanceMirror {
  readonly #o: InstanceMirrorOptions;
  readonly #stream: ExecStream;
  readonly #ledger: MirrorLedger;
  readonly #listeners: ((error: MirrorLostError) => void)[] = [];
  readonly #waiters = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  readonly #timer: NodeJS.Timeout;
  #lost: MirrorLostError | null = null;
  #closed = false;
  #hello = false;
  #nextSync = 1;
  #work: Promise<void> = Promise.resolve();
  #queued = 0;
  #lastLine = Date.now();
  #stderr = "";

  constructor(options: InstanceMirrorOptions, stream: ExecStream, ledger: MirrorLedger, beatMs: number) {
    this.#o = options;
    this.#stream = stream;
    this.#ledger = ledger;
    const lines = new LineSplitter(MIRROR_STREAM.lineBytes, {
      line: (text) => { this.#enqueue(text); },
      overflow: () => { this.#lose(`it sent a line longer than the ${String(MIRROR_STREAM.lineBytes)} bytes a frame may have`); },
    });
    stream.stdout.on("data", (chunk: Buffer) => {
      this.#lastLine = Date.now();
      lines.push(chunk);
    });
    // A connection that breaks is the command's end (below); its streams' errors must not take the host down.
    for (const side of [stream.stdin, stream.stdout, stream.stderr]) side.on("error", (error: Error) => { this.#lose(`its connection broke: ${error.message}`); });
    stream.stderr.on("data", (chunk: Buffer) => { this.#stderr = `${this.#stderr}${chunk.toString("utf8")}`.slice(-2000); });
    // Sent and checked on an interval: a worker silent for three beats is gone (its engine, its connection, or it hangs).
    this.#timer = setInterval(() => {
      if (Date.now() - this.#lastLine > 3 * beatMs) this.#lose(`nothing came from the worker for ${String(3 * beatMs)} ms (its heartbeat stopped)`);
      else this.send({ t: "beat" });
    }, beatMs);
    this.#timer.unref();
    stream.exit.then(
      (code) => { void this.#work.then(() => { this.#lose(`its command in the container ended (exit code ${String(code)})${this.#said()}`); }); },
      (error: unknown) => { this.#lose(`its command in the container ended: ${error instanceof Error ? error.message : String(error)}${this.#said()}`); },
    );
  }

  get lost(): MirrorLostError | null {
    return this.#lost;
  }

  send(frame: HostFrame): void {
    if (this.#lost !== null || this.#closed) return;
    this.#stream.stdin.write(`${JSON.stringify(frame)}\n`);
  }

  synced(): Promise<void> {
    if (this.#lost !== null) return Promise.reject(this.#lost);
    if (this.#closed) return Promise.reject(new ExternalError(`the mirror of ${this.#o.hostDir} is closed`));
    const id = this.#nextSync;
    this.#nextSync += 1;
    const done = new Promise<void>((resolve, reject) => { this.#waiters.set(id, { resolve, reject }); });
    this.send({ t: "sync", id });
    return done;
  }

  onLost(listener: (error: MirrorLostError) => void): void {
    if (this.#lost !== null) listener(this.#lost);
    else this.#listeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#rejectWaiters(new ExternalError(`the mirror of ${this.#o.hostDir} was closed`));
    this.#stream.stdin.end();
    // End of input makes the command exit; a connection that cannot say so is dropped after a while.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#stream.exit.catch(() => undefined), new Promise((resolve) => { timer = setTimeout(resolve, 5_000); })]);
    clearTimeout(timer);
    this.#stream.close();
    await this.#work;
  }

  #said(): string {
    const text = this.#stderr.trim();
    return text === "" ? "" : `; it said: ${text}`;
  }

  #enqueue(line: string): void {
    this.#queued += 1;
    if (this.#queued >= QUEUE_HIGH) this.#stream.stdout.pause();
    this.#work = this.#work.then(async () => {
      try {
        await this.#handle(line);
      } catch (error) {
        this.#lose(`writing its change failed: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        this.#queued -= 1;
        if (this.#queued === 0) this.#stream.stdout.resume();
      }
    });
  }

  async #handle(line: string): Promise<void> {
    if (this.#lost !== null || this.#closed) return;
    const parsed = parseWorkerFrame(line);
    if (!parsed.ok) {
      this.#lose(`it sent ${parsed.reason}`);
      return;
    }
    const frame: WorkerFrame = parsed.frame;
    if (!this.#hello) {
      if (frame.t !== "hello" || frame.v !== MIRROR_PROTOCOL_VERSION) {
        this.#lose(`its first frame is not hello version ${String(MIRROR_PROTOCOL_VERSION)} (is the worker bundle in the container this cspace's?)`);
        return;
      }
      this.#hello = true;
      return;
    }
    switch (frame.t) {
      case "hello":
        this.#lose("it said hello twice");
        return;
      case "beat":
        return;
      case "note":
        this.#o.onNote?.(frame.text);
        return;
      case "synced": {
        if (!this.#waiters.has(frame.id)) {
          this.#lose(`it answered sync ${String(frame.id)}, which the host did not ask for or was answered`);
          return;
        }
        // Answered in order: one sync done means every earlier one is.
        for (const [id, waiter] of this.#waiters) {
          if (id > frame.id) continue;
          this.#waiters.delete(id);
          waiter.resolve();
        }
        return;
      }
      case "append":
      case "put":
      case "remove":
      case "move": {
        const checked = this.#ledger.check(frame);
        if (!checked.ok) {
          this.#lose(`refused: ${checked.reason}`);
          return;
        }
        const data = frame.t === "append" || frame.t === "put" ? Buffer.from(frame.data, "base64") : Buffer.alloc(0);
        if ((frame.t === "append" || frame.t === "put") && data.length !== base64Length(frame.data)) {
          this.#lose(`refused: the data of a ${frame.t} to ${frame.path} is not canonical base64`);
          return;
        }
        await applyMirrorChange(this.#o.hostDir, checked.change, data);
        this.#ledger.apply(checked.change);
        return;
      }
    }
  }

  #lose(why: string): void {
    if (this.#lost !== null || this.#closed) return;
    const error = new MirrorLostError(this.#o.hostDir, why);
    this.#lost = error;
    clearInterval(this.#timer);
    this.#stream.stdout.resume();
    this.#stream.close();
    this.#rejectWaiters(error);
    for (const listener of this.#listeners.splice(0)) listener(error);
  }

  #rejectWaiters(error: Error): void {
    for (const waiter of this.#waiters.values()) waiter.reject(error);
    this.#waiters.clear();
  }
}
