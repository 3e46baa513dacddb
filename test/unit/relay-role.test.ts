import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { helloedRelay, playRelay, type PlayedRelay } from "../support/played-relay.ts";

/**
 * The relay role in this process, with the host played over in-memory
 * streams: it carries a connection on its c.sock to the host and a host
 * channel to its w.sock, and it never outlives its host: it exits on end of
 * input, on missed heartbeats, and on a frame the host must not send.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Played = PlayedRelay;

async function play(args: readonly string[] = []): Promise<Played> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "cspace-relay-role-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const { played, stop } = playRelay(dir, args);
  cleanups.push(stop);
  return played;
}

async function helloed(args: readonly string[] = []): Promise<Played> {
  return helloedRelay(await play(args));
}

const base64 = (text: string): string => Buffer.from(text).toString("base64");

describe("worker.cjs relay", () => {
  it("carries a connection on its c.sock to the host, and a host channel to its w.sock", async () => {
    const relay = await helloed();
    // A connection on c.sock (the supervisor's report) becomes channel 1.
    await new Promise<void>((resolve) => {
      const poll = (): void => {
        if (existsSync(path.join(relay.dir, "c.sock"))) resolve();
        else setImmediate(poll);
      };
      poll();
    });
    const report = createConnection(path.join(relay.dir, "c.sock"));
    report.write("report\n");
    expect(await relay.frame((frame) => frame.t === "open")).toEqual({ t: "open", s: 1, ch: 1 });
    expect(await relay.frame((frame) => frame.t === "data")).toEqual({ t: "data", s: 2, ch: 1, d: base64("report\n") });
    const answered = new Promise<string>((resolve) => report.on("data", (chunk: Buffer) => { resolve(chunk.toString("utf8")); }));
    relay.say({ t: "data", s: 1, ch: 1, d: base64("ok\n") });
    expect(await answered).toBe("ok\n");
    report.destroy();

    // A host channel reaches the supervisor's w.sock.
    const heard = new Promise<string>((resolve) => {
      const supervisor = createServer((socket) => socket.on("data", (chunk: Buffer) => { resolve(chunk.toString("utf8")); }));
      supervisor.listen(path.join(relay.dir, "w.sock"), () => {
        relay.say({ t: "open", s: 2, ch: 2 });
        relay.say({ t: "data", s: 3, ch: 2, d: base64("status\n") });
      });
      cleanups.push(() => new Promise((done) => supervisor.close(() => { done(); })));
    });
    expect(await heard).toBe("status\n");
    relay.stdin.end();
    expect(await relay.exit).toBe(0);
    expect(existsSync(path.join(relay.dir, "c.sock"))).toBe(false);
  });

  it("exits 5 when the host falls silent", async () => {
    const relay = await helloed(["--heartbeat-ms", "5"]);
    expect(await relay.exit).toBe(5);
    expect(relay.stderr.join("")).toBe("relay: no word from the host for 15 ms\n");
  });

  it("exits 6 on a frame the host must not send, saying which", async () => {
    const relay = await helloed();
    relay.say({ t: "open", s: 1, ch: 1 });
    expect(await relay.exit).toBe(6);
    expect(relay.stderr.join("")).toBe("relay: the host broke the relay protocol: the peer opened channel 1, an id only this side gives out\n");
  });

  it("refuses bad usage", async () => {
    const relay = await play(["--heartbeat-ms", "soon"]);
    expect(await relay.exit).toBe(2);
  });
});
