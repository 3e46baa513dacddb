import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection, createServer, type Server } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RelayFrame } from "../../src/core/messaging/relay-frames.ts";
import { helloedRelay, playRelay, type PlayedRelay } from "../support/played-relay.ts";

/**
 * Two relays at once in one container: the coordinator's (it serves c.sock)
 * and a one-off one a command opens with no coordinator running
 * (`--no-c-sock`). Neither breaks the other, whichever starts first: each
 * carries its own host's channels to the supervisor's w.sock, and c.sock is
 * the coordinator's relay's alone.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Played = PlayedRelay;

/** A relay in `dir`, its host played over in-memory streams, past the hello. */
async function relayIn(dir: string, args: readonly string[] = []): Promise<Played> {
  const { played, stop } = playRelay(dir, args);
  cleanups.push(stop);
  return helloedRelay(played);
}

/** A stand-in supervisor on `dir`/w.sock: answers each line with `ok <line>`. */
async function supervisorIn(dir: string): Promise<void> {
  const server: Server = createServer((socket) => {
    socket.on("data", (chunk: Buffer) => socket.write(`ok ${chunk.toString("utf8")}`));
  });
  await new Promise<void>((resolve) => server.listen(path.join(dir, "w.sock"), resolve));
  cleanups.push(() => new Promise((done) => server.close(() => { done(); })));
}

const base64 = (text: string): string => Buffer.from(text).toString("base64");
const text = (frame: RelayFrame): string => (frame.t === "data" ? Buffer.from(frame.d, "base64").toString("utf8") : "");

/** A host channel through `relay` to w.sock: what the supervisor answered. */
async function ask(relay: Played, channel: number, seq: number, line: string): Promise<string> {
  relay.say({ t: "open", s: seq, ch: channel });
  relay.say({ t: "data", s: seq + 1, ch: channel, d: base64(`${line}\n`) });
  return text(await relay.frame((frame) => frame.t === "data" && frame.ch === channel));
}

/** Waits until the file exists (the relay serves c.sock once it has listened). */
async function exists(file: string): Promise<void> {
  while (!existsSync(file)) await new Promise((resolve) => setImmediate(resolve));
}

/** A connection on c.sock, as the supervisor makes to report: which relay it reached shows as that relay's `open`. */
async function report(dir: string): Promise<void> {
  const socket = createConnection(path.join(dir, "c.sock"));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => { resolve(); });
    socket.once("error", reject);
  });
  socket.write("report\n");
  cleanups.push(() => Promise.resolve(void socket.destroy()));
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "cspace-relay-one-off-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe("a one-off relay beside the coordinator's, in one container", () => {
  it("started after it: both carry their host's requests, reports still reach the coordinator's, and it leaves c.sock alone as it goes", async () => {
    const dir = await tempDir();
    await supervisorIn(dir);
    const coordinators = await relayIn(dir);
    await exists(path.join(dir, "c.sock"));
    const oneOff = await relayIn(dir, ["--no-c-sock"]);

    expect(await ask(oneOff, 2, 1, "status")).toBe("ok status\n");
    expect(await ask(coordinators, 2, 1, "send")).toBe("ok send\n");
    await report(dir);
    expect(await coordinators.frame((frame) => frame.t === "open" && frame.ch === 1)).toMatchObject({ t: "open", ch: 1 });

    oneOff.stdin.end();
    expect(await oneOff.exit).toBe(0);
    // The coordinator's relay goes on: its c.sock is still there and still its own, and its channels still answer.
    expect(existsSync(path.join(dir, "c.sock"))).toBe(true);
    await report(dir);
    expect(await coordinators.frame((frame) => frame.t === "open" && frame.ch === 3)).toMatchObject({ t: "open", ch: 3 });
    expect(await ask(coordinators, 4, 3, "status")).toBe("ok status\n");
    expect(oneOff.frames.filter((frame) => frame.t === "open")).toEqual([]);
  });

  it("started before it: the coordinator's relay still serves c.sock, and the one-off one still answers", async () => {
    const dir = await tempDir();
    await supervisorIn(dir);
    const oneOff = await relayIn(dir, ["--no-c-sock"]);
    expect(existsSync(path.join(dir, "c.sock"))).toBe(false);
    const coordinators = await relayIn(dir);
    await exists(path.join(dir, "c.sock"));
    await report(dir);
    expect(await coordinators.frame((frame) => frame.t === "open" && frame.ch === 1)).toMatchObject({ t: "open", ch: 1 });
    expect(await ask(oneOff, 2, 1, "interrupt")).toBe("ok interrupt\n");
    expect(oneOff.frames.filter((frame) => frame.t === "open")).toEqual([]);
  });

  it("two one-off relays at once each carry their own host's channels", async () => {
    const dir = await tempDir();
    await supervisorIn(dir);
    const [first, second] = await Promise.all([relayIn(dir, ["--no-c-sock"]), relayIn(dir, ["--no-c-sock"])]);
    const answers = await Promise.all([ask(first, 2, 1, "one"), ask(second, 2, 1, "two")]);
    expect(answers).toEqual(["ok one\n", "ok two\n"]);
  });
});
