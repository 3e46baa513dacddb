import { chmodSync, mkdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type Socket } from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_LINE_BYTES, WORKER_COMMANDS, errorReply, okReply, type Reply } from "../../../src/core/messaging/protocol.ts";
import { newRequestId, request } from "../../../src/adapters/messaging/client.ts";
import { ConnectionClosedError, ListenError, NobodyListeningError, RequestTimeoutError } from "../../../src/adapters/messaging/errors.ts";
import { serveNdjson, type RequestHandler, type ServeOptions } from "../../../src/adapters/messaging/server.ts";
import { cleanUp, defer, staleSocket, tempDir } from "./support.ts";

afterEach(cleanUp);

const echo: RequestHandler = (message) => okReply(message.id, { cmd: message.cmd, text: message.text ?? null });

async function serve(handler: RequestHandler = echo, options: Partial<ServeOptions> = {}): Promise<string> {
  const socket = path.join(tempDir(), "w.sock");
  const server = await serveNdjson(socket, handler, { accepted: WORKER_COMMANDS, ...options });
  defer(() => server.close());
  return socket;
}

/** A raw connection: write what we like, read reply lines as they come, see when the server closes. */
function connect(socket: string): Promise<{ conn: Socket; lines: () => Promise<Reply>; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(socket);
    const queue: Reply[] = [];
    const waiters: ((reply: Reply) => void)[] = [];
    let buffer = "";
    conn.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let at = buffer.indexOf("\n"); at !== -1; at = buffer.indexOf("\n")) {
        const reply = JSON.parse(buffer.slice(0, at)) as Reply;
        buffer = buffer.slice(at + 1);
        const waiter = waiters.shift();
        if (waiter === undefined) queue.push(reply);
        else waiter(reply);
      }
    });
    // Writes after the server closed fail with EPIPE: expected in the overlong-line test.
    conn.on("error", () => undefined);
    const closed = new Promise<void>((done) => conn.once("close", () => { done(); }));
    conn.once("connect", () => {
      resolve({
        conn,
        closed,
        lines: () => new Promise<Reply>((next) => {
          const ready = queue.shift();
          if (ready === undefined) waiters.push(next);
          else next(ready);
        }),
      });
    });
    conn.once("error", reject);
  });
}

describe("serveNdjson", () => {
  it("answers garbage with an error and keeps serving the same connection", async () => {
    const socket = await serve();
    const { conn, lines } = await connect(socket);
    conn.write("this is not json\n");
    conn.write("[1,2]\n");
    conn.write('{"v":1,"id":"a","cmd":"status"}\n');
    expect(await lines()).toMatchObject({ ok: false, id: null, error: { code: "bad-json" } });
    expect(await lines()).toMatchObject({ ok: false, id: null, error: { code: "bad-request" } });
    expect(await lines()).toMatchObject({ ok: true, id: "a", cmd: "status" });
    conn.destroy();
  });

  it("refuses unknown commands and versions by id", async () => {
    const socket = await serve();
    const { conn, lines } = await connect(socket);
    conn.write('{"v":1,"id":"x","cmd":"report","report":{}}\n{"v":2,"id":"y","cmd":"status"}\n{"v":1,"id":"z","cmd":"send","text":"  "}\n');
    expect(await lines()).toMatchObject({ id: "x", ok: false, error: { code: "unknown-command" } });
    expect(await lines()).toMatchObject({ id: "y", ok: false, error: { code: "unsupported-version" } });
    expect(await lines()).toMatchObject({ id: "z", ok: false, error: { code: "bad-request" } });
    conn.destroy();
  });

  it("takes a line of exactly MAX_LINE_BYTES, refuses one byte more and closes that connection only", async () => {
    const socket = await serve();
    const envelope = JSON.stringify({ v: 1, id: "big", cmd: "send", text: "" });
    const exact = JSON.stringify({ v: 1, id: "big", cmd: "send", text: "x".repeat(MAX_LINE_BYTES - envelope.length) });
    expect(Buffer.byteLength(exact)).toBe(MAX_LINE_BYTES);
    const fits = await request(socket, JSON.parse(exact) as never, { timeoutMs: 10_000 });
    expect(fits).toMatchObject({ ok: true, id: "big" });

    const { conn, lines, closed } = await connect(socket);
    conn.write(`${"y".repeat(MAX_LINE_BYTES + 1)}\n`);
    expect(await lines()).toMatchObject({ ok: false, id: null, error: { code: "too-large" } });
    await closed;
    expect(await request(socket, { v: 1, id: "after", cmd: "status" })).toMatchObject({ ok: true, id: "after" });
  });

  it("answers 50 concurrent clients, each with its own reply", async () => {
    const socket = await serve(async (message) => {
      await new Promise((resolve) => setImmediate(resolve));
      return okReply(message.id, { text: message.text ?? null });
    });
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => request(socket, { v: 1, id: `c${String(i)}`, cmd: "send", text: `m${String(i)}` })),
    );
    replies.forEach((reply, i) => { expect(reply).toMatchObject({ ok: true, id: `c${String(i)}`, text: `m${String(i)}` }); });
  });

  it("drops a client that connects and never writes, with a timeout reply", async () => {
    const socket = await serve(echo, { idleTimeoutMs: 100 });
    const { lines, closed } = await connect(socket);
    expect(await lines()).toMatchObject({ ok: false, id: null, error: { code: "timeout" } });
    await closed;
    expect(await request(socket, { v: 1, id: "still", cmd: "status" })).toMatchObject({ ok: true });
  });

  it("does not drop a connection while its request is in flight", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const socket = await serve(async (message) => {
      await gate;
      return okReply(message.id);
    }, { idleTimeoutMs: 50 });
    const pending = request(socket, { v: 1, id: "slow", cmd: "interrupt" });
    // Several idle periods pass while the handler waits (the server's timer fires and must not close).
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    expect(await pending).toMatchObject({ ok: true, id: "slow" });
  });

  it("turns a handler that throws or rejects into an internal error reply", async () => {
    const socket = await serve((message) => {
      if (message.cmd === "status") throw new Error("boom");
      return Promise.reject(new Error("later boom"));
    });
    expect(await request(socket, { v: 1, id: "t", cmd: "status" })).toMatchObject({ ok: false, id: "t", error: { code: "internal", message: "boom" } });
    expect(await request(socket, { v: 1, id: "r", cmd: "shutdown" })).toMatchObject({ ok: false, id: "r", error: { code: "internal", message: "later boom" } });
  });

  it("calls the handler in arrival order for pipelined requests", async () => {
    const seen: string[] = [];
    const socket = await serve((message) => {
      seen.push(message.text ?? "");
      return errorReply(message.id, "not-running", "no");
    });
    const { conn, lines } = await connect(socket);
    conn.write(["a", "b", "c"].map((text) => JSON.stringify({ v: 1, id: text, cmd: "send", text })).join("\n") + "\n");
    for (const id of ["a", "b", "c"]) expect(await lines()).toMatchObject({ id, ok: false });
    expect(seen).toEqual(["a", "b", "c"]);
    conn.destroy();
  });

  it("makes the socket 0600 and refuses a folder open to other users", async () => {
    const socket = await serve();
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    const open = path.join(tempDir(), "open");
    mkdirSync(open);
    chmodSync(open, 0o755);
    await expect(serveNdjson(path.join(open, "w.sock"), echo, { accepted: WORKER_COMMANDS })).rejects.toBeInstanceOf(ListenError);
  });

  it("replaces a stale socket, but refuses a live one and a file that is not a socket", async () => {
    const dir = tempDir();
    const stale = path.join(dir, "stale.sock");
    staleSocket(stale);
    expect(statSync(stale).isSocket()).toBe(true);
    const server = await serveNdjson(stale, echo, { accepted: WORKER_COMMANDS });
    defer(() => server.close());
    expect(await request(stale, { v: 1, id: "s", cmd: "status" })).toMatchObject({ ok: true });
    await expect(serveNdjson(stale, echo, { accepted: WORKER_COMMANDS })).rejects.toThrow(/already listening/);
    const plain = path.join(dir, "plain.sock");
    writeFileSync(plain, "not a socket");
    await expect(serveNdjson(plain, echo, { accepted: WORKER_COMMANDS })).rejects.toThrow(/not a socket/);
  });
});

describe("request", () => {
  it("says nobody is listening when there is no socket, or a socket nobody accepts on", async () => {
    const dir = tempDir();
    await expect(request(path.join(dir, "none.sock"), { v: 1, id: newRequestId(), cmd: "status" })).rejects.toBeInstanceOf(NobodyListeningError);
    const stale = path.join(dir, "stale.sock");
    staleSocket(stale);
    await expect(request(stale, { v: 1, id: newRequestId(), cmd: "status" })).rejects.toBeInstanceOf(NobodyListeningError);
  });

  it("does not dial a link planted in place of a socket, even one to a live server (a worker pointing the host's messages elsewhere)", async () => {
    let reached = 0;
    const elsewhere = await serve((message) => {
      reached++;
      return okReply(message.id);
    });
    const planted = path.join(tempDir(), "w.sock");
    symlinkSync(elsewhere, planted);
    await expect(request(planted, { v: 1, id: newRequestId(), cmd: "status" })).rejects.toThrow(/it is a link, which cspace does not dial/);
    await expect(request(planted, { v: 1, id: newRequestId(), cmd: "status" })).rejects.toBeInstanceOf(NobodyListeningError);
    expect(reached).toBe(0);
    // The server itself is fine: dialled directly, it answers.
    await expect(request(elsewhere, { v: 1, id: newRequestId(), cmd: "status" })).resolves.toMatchObject({ ok: true });
  });

  it("times out when no reply comes", async () => {
    const socket = await serve(() => new Promise<Reply>(() => undefined));
    await expect(request(socket, { v: 1, id: "t", cmd: "status" }, { timeoutMs: 100 })).rejects.toBeInstanceOf(RequestTimeoutError);
  });

  it("fails typed when the peer closes without replying", async () => {
    const socket = path.join(tempDir(), "rude.sock");
    const rude = createServer((conn) => { conn.destroy(); });
    await new Promise<void>((resolve) => rude.listen(socket, resolve));
    defer(() => new Promise<void>((resolve) => rude.close(() => { resolve(); })));
    await expect(request(socket, { v: 1, id: "t", cmd: "status" })).rejects.toBeInstanceOf(ConnectionClosedError);
  });
});

describe("serveNdjson's bounds for an untrusted peer", () => {
  it("refuses requests past the rate limit with rate-limited, without calling the handler, and reports each refusal", async () => {
    let handled = 0;
    const refusals: { firstOfBurst: boolean; refused: number }[] = [];
    const socket = await serve((message) => { handled += 1; return okReply(message.id); }, {
      rateLimit: { capacity: 3, perSecond: 0.001 },
      onRateLimited: (refusal) => refusals.push(refusal),
    });
    const { conn, lines } = await connect(socket);
    for (let i = 0; i < 10; i++) conn.write(`${JSON.stringify({ v: 1, id: `r${String(i)}`, cmd: "status" })}\n`);
    const replies: Reply[] = [];
    for (let i = 0; i < 10; i++) replies.push(await lines());
    const codes = replies.map((r) => (r.ok ? "ok" : r.error.code));
    expect(codes.filter((code) => code === "ok")).toHaveLength(3);
    expect(codes.filter((code) => code === "rate-limited")).toHaveLength(7);
    expect(handled).toBe(3);
    expect(refusals.filter((r) => r.firstOfBurst)).toHaveLength(1);
    expect(refusals.at(-1)?.refused).toBe(7);
    conn.end();
  });

  it("refuses a send whose text is past maxSendTextBytes with too-large and keeps the connection", async () => {
    const socket = await serve(echo, { maxSendTextBytes: 16 });
    const { conn, lines } = await connect(socket);
    conn.write(`${JSON.stringify({ v: 1, id: "big", cmd: "send", text: "é".repeat(9) })}\n`);
    const big = await lines();
    expect(big.ok ? null : [big.id, big.error.code]).toEqual(["big", "too-large"]);
    conn.write(`${JSON.stringify({ v: 1, id: "small", cmd: "send", text: "hello" })}\n`);
    expect(await lines()).toMatchObject({ id: "small", ok: true });
    conn.end();
  });
});
