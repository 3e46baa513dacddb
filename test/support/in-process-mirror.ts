import { PassThrough } from "node:stream";
import type { ExecOptions, ExecStream } from "../../src/core/instances/ports.ts";
import { parseMirrorArgs, runInstanceMirror } from "../../src/worker/instance-mirror.ts";
import { FakeContainerRuntime } from "../fakes/container-runtime.ts";

/**
 * A ContainerRuntime whose execStream runs the worker's mirror role in this
 * process against a local directory (the "container's" /run/cspace), joined
 * to the host's end by in-memory streams: the whole protocol, no engine.
 * `lines` instead plays a worker that writes exactly those lines (hostile tests).
 */
export class InProcessMirrorRuntime extends FakeContainerRuntime {
  readonly #containerDir: string;
  readonly #lines: readonly string[] | null;
  /** Every command started, with its options. */
  readonly started: { readonly command: readonly string[]; readonly options: ExecOptions }[] = [];

  constructor(containerDir: string, lines: readonly string[] | null = null) {
    super();
    this.#containerDir = containerDir;
    this.#lines = lines;
  }

  override execStream(_id: string, command: readonly string[], options: ExecOptions = {}): Promise<ExecStream> {
    this.started.push({ command, options });
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let exit: Promise<number>;
    if (this.#lines === null) {
      // The host's own heartbeat interval (its command says it), so a quiet stretch is never taken for a vanished worker;
      // scans only when told (a change or a sync), never by the clock.
      const args = parseMirrorArgs(command.slice(3));
      if (typeof args === "string") throw new Error(args);
      exit = runInstanceMirror({ dir: this.#containerDir, input: stdin, output: stdout, pollMs: 600_000, beatMs: args.beatMs });
    } else {
      for (const line of this.#lines) stdout.write(`${line}\n`);
      // A hostile worker that then waits: only the host's refusal or close ends it.
      exit = new Promise((resolve) => { stdin.on("finish", () => { resolve(0); }); stdin.on("close", () => { resolve(0); }); });
      stdin.resume();
    }
    void exit.then(() => { stdout.end(); stderr.end(); });
    return Promise.resolve({
      stdin,
      stdout,
      stderr,
      exit,
      close: () => { stdin.destroy(); },
    });
  }
}
