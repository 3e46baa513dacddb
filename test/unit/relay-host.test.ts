import { mkdtemp, rm } from "node:fs/promises";
import { createConnection } from "node:net";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { openRelay, type RelayHandle, type RelayState } from "../../src/adapters/messaging/relay/open-relay.ts";
import type { ContainerRuntime, ExecStream } from "../../src/core/instances/ports.ts";
import { encodeFrame, type RelayFrame } from "../../src/core/messaging/relay-frames.ts";

/**
 * The host's end of the relay against a relay this test plays by hand over
 * in-memory streams: a same-session resume (which a relay that outlives its
 * exec would make) resends only what was not acknowledged and drops what the
 * relay sends twice; a silent relay is given up on with growing waits.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** One exec as the test sees it: the frames the host wrote, and the relay's output to write into. */
class PlayedExec {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly frames: RelayFrame[] = [];
  #waiters: (() => void)[] = [];
  #buffer = "";
  #exited: (code: number) => void = () => undefined;
  readonly exit = new Promise<number>((resolve) => {
    this.#exited = resolve;
  });

  constructor() {
    this.stdin.on("data", (chunk: Buffer) => {
      this.#buffer += chunk.toString("utf8");
      for (let at = this.#buffer.indexOf("\n"); at >= 0; at = this.#buffer.indexOf("\n")) {
        this.frames.push(JSON.parse(this.#buffer.slice(0, at)) as RelayFrame);
        this.#buffer = this.#buffer.slice(at + 1);
      }
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.stdin.on("end", () => {
      this.end();
    });
  }

  stream(): ExecStream {
    return { stdin: this.stdin, stdout: this.stdout, stderr: this.stderr, exit: this.exit, close: () => { this.end(); } };
  }

  say(frame: RelayFrame): void {
    this.stdout.write(encodeFrame(frame));
  }

  end(): void {
    this.stdout.end();
    this.stderr.end();
    this.#exited(0);
  }

  /** The frames (other than acks, which the heartbeat adds at will) once `count` of them arrived. */
  async sequenced(count: number): Promise<RelayFrame[]> {
    for (;;) {
      const found = this.frames.filter((frame) => frame.t !== "ack");
      if (found.length >= count) return found;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }
}

class PlayedRuntime implements Pick<ContainerRuntime, "execStream"> {
  readonly execs: PlayedExec[] = [];
  #waiting: ((exec: PlayedExec) => void)[] = [];

  execStream(): Promise<ExecStream> {
    const exec = new PlayedExec();
    this.execs.push(exec);
    for (const wake of this.#waiting.splice(0)) wake(exec);
    return Promise.resolve(exec.stream());
  }

  /** The nth exec the host started (from 0), once it has. */
  exec(index: number): Promise<PlayedExec> {
    const started = this.execs[index];
    if (started !== undefined) return Promise.resolve(started);
    return new Promise((resolve) => {
      const check = (): void => {
        const now = this.execs[index];
        if (now === undefined) this.#waiting.push(check);
        else resolve(now);
      };
      this.#waiting.push(check);
    });
  }
}

async function open(options: { heartbeatMs?: number; minBackoffMs?: number } = {}): Promise<{ runtime: PlayedRuntime; relay: RelayHandle; dir: string; notices: string[]; states: RelayState[] }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "cspace-relay-host-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const runtime = new PlayedRuntime();
  const notices: string[] = [];
  const states: RelayState[] = [];
  const relay = openRelay({ runtime, containerId: "c0ffee", user: "1000", hostDir: dir, heartbeatMs: options.heartbeatMs ?? 60_000, minBackoffMs: options.minBackoffMs ?? 1, onNotice: (text) => notices.push(text), onStateChange: (state) => states.push(state) });
  cleanups.push(() => relay.close());
  return { runtime, relay, dir, notices, states };
}

describe("openRelay, the host's end", () => {
  it("resumes the same session by resending only what was not acknowledged, and drops a frame the relay sends twice", async () => {
    const { runtime, relay, dir } = await open();
    const first = await runtime.exec(0);
    first.say({ t: "hello", v: 1, session: "s1", recv: 0 });
    await relay.ready;
    expect(await first.sequenced(1)).toEqual([{ t: "hello", v: 1, session: "s1", recv: 0 }]);

    const client = createConnection(path.join(dir, "w.sock"));
    const got: string[] = [];
    client.on("data", (chunk: Buffer) => got.push(chunk.toString("utf8")));
    client.write("ping\n");
    expect((await first.sequenced(3)).slice(1)).toEqual([{ t: "open", s: 1, ch: 2 }, { t: "data", s: 2, ch: 2, d: Buffer.from("ping\n").toString("base64") }]);
    // The relay got the open only; then its exec drops.
    first.say({ t: "ack", a: 1 });
    first.end();

    const second = await runtime.exec(1);
    second.say({ t: "hello", v: 1, session: "s1", recv: 1 });
    expect(await second.sequenced(2)).toEqual([{ t: "hello", v: 1, session: "s1", recv: 0 }, { t: "data", s: 2, ch: 2, d: Buffer.from("ping\n").toString("base64") }]);

    const pong = { t: "data", s: 1, ch: 2, d: Buffer.from("pong\n").toString("base64") } as const;
    second.say(pong);
    second.say(pong);
    second.say({ t: "end", s: 2, ch: 2 });
    await new Promise<void>((resolve) => client.on("end", resolve));
    expect(got.join("")).toBe("pong\n");
    expect(relay.stats()).toMatchObject({ sessions: 1, losses: 1, duplicatesDropped: 1, framesResent: 1, state: "up" });
    client.destroy();
  });

  it("gives up on a relay that never speaks, says so, and waits longer after each loss", async () => {
    const { runtime, relay, notices, states } = await open({ heartbeatMs: 5, minBackoffMs: 10 });
    await runtime.exec(2);
    expect(notices.slice(0, 2)).toEqual([
      "the message relay to container c0ffee is down: no heartbeat from the relay for 15 ms; trying again in 10 ms",
      "the message relay to container c0ffee is down: no heartbeat from the relay for 15 ms; trying again in 20 ms",
    ]);
    expect(states).toEqual(["down"]);
    expect(relay.stats()).toMatchObject({ state: "down", lastLoss: "no heartbeat from the relay for 15 ms" });
  });

  it("refuses a relay whose first frame is not its hello", async () => {
    const { runtime, relay } = await open();
    const exec = await runtime.exec(0);
    exec.say({ t: "ack", a: 0 });
    await runtime.exec(1);
    expect(relay.stats().lastLoss).toBe("the relay broke the protocol: it sent ack before its hello");
  });
});
