import { PassThrough } from "node:stream";
import { encodeFrame, type RelayFrame } from "../../src/core/messaging/relay-frames.ts";
import { runRelay } from "../../src/worker/relay.ts";

/** The in-container relay role run in this process, its host played over in-memory streams. */
export interface PlayedRelay {
  readonly dir: string;
  readonly stdin: PassThrough;
  /** Every frame the relay wrote, in order. */
  readonly frames: RelayFrame[];
  readonly stderr: string[];
  readonly exit: Promise<number>;
  /** The first frame (written already or to come) that matches. */
  frame(match: (frame: RelayFrame) => boolean): Promise<RelayFrame>;
  /** Writes a frame to the relay as its host would. */
  say(frame: RelayFrame): void;
}

/** Runs the relay on `dir` with `args`; `stop` ends its input and waits for it (the caller's cleanup). */
export function playRelay(dir: string, args: readonly string[] = []): { readonly played: PlayedRelay; readonly stop: () => Promise<void> } {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderrStream = new PassThrough();
  const frames: RelayFrame[] = [];
  const stderr: string[] = [];
  const waiters: (() => void)[] = [];
  let buffer = "";
  stdout.on("data", (chunk: Buffer) => {
    buffer += chunk.toString("utf8");
    for (let at = buffer.indexOf("\n"); at >= 0; at = buffer.indexOf("\n")) {
      frames.push(JSON.parse(buffer.slice(0, at)) as RelayFrame);
      buffer = buffer.slice(at + 1);
    }
    for (const wake of waiters.splice(0)) wake();
  });
  stderrStream.on("data", (chunk: Buffer) => stderr.push(chunk.toString("utf8")));
  const exit = runRelay(["--dir", dir, ...args], { stdin, stdout, stderr: stderrStream });
  const played: PlayedRelay = {
    dir,
    stdin,
    frames,
    stderr,
    exit,
    say: (frame) => stdin.write(encodeFrame(frame)),
    async frame(match) {
      for (;;) {
        const found = frames.find(match);
        if (found !== undefined) return found;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
  return {
    played,
    stop: async () => {
      stdin.end();
      await exit;
    },
  };
}

/** The relay past its hello: the host answered it as a new session. */
export async function helloedRelay(played: PlayedRelay): Promise<PlayedRelay> {
  const hello = await played.frame((frame) => frame.t === "hello");
  if (hello.t !== "hello") throw new Error("no hello");
  played.say({ t: "hello", v: 1, session: hello.session, recv: 0 });
  return played;
}
