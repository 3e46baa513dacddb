import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { WorkerStatus } from "../../src/core/agents/worker-status.ts";
import { MAX_WORKER_REPLY_BYTES } from "../../src/services/workers/supervisor-client.ts";
import { listed, script, waitForEvent, waitingForMessage, workerFixture, type WorkerFixture } from "../docker/worker-fixture.ts";

/**
 * A prompt-injected agent in a real worker container attacks the host over
 * its w.sock, both ways. Inbound: it dials its own supervisor with garbage,
 * a line past the bound, a half line it never ends: the supervisor answers
 * each with an error and goes on serving the host. Outbound: it kills its
 * supervisor and listens on w.sock itself (the instance directory is
 * writable by the container) with an impostor (wsock-impostor.mjs) that
 * answers the host with garbage, a line of 64 MiB, a line without end, a
 * reply of the wrong shape, another request's id, or never. `cspace send`,
 * `status`, `list` and `interrupt` through the real binary end with a clear
 * error naming the instance (never exit 4), read little more than the bound,
 * and nothing of the host's own changes.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const INSTANCE = "issue-1";

/** Runs in the worker's Node 18 against the real supervisor: every bad line on one connection, a half line held open on another. */
const DIAL = String.raw`
const net = require("net");
function lines(socket, count) {
  return new Promise((resolve, reject) => {
    let buffer = "";
    const got = [];
    socket.on("data", (chunk) => {
      buffer += chunk;
      for (let at = buffer.indexOf("\n"); at >= 0; at = buffer.indexOf("\n")) {
        got.push(JSON.parse(buffer.slice(0, at)));
        buffer = buffer.slice(at + 1);
      }
      if (got.length >= count) resolve(got);
    });
    socket.on("error", reject);
  });
}
async function main() {
  const half = net.createConnection("/run/cspace/w.sock");
  await new Promise((resolve) => half.on("connect", resolve));
  half.write('{"v":1,"id":"half","cmd":"sta');
  const bad = net.createConnection("/run/cspace/w.sock");
  const badReplies = lines(bad, 5);
  bad.write(["this is not json {", "[1, 2, 3]", JSON.stringify({ v: 1, id: "u", cmd: "report" }), JSON.stringify({ v: 2, id: "v", cmd: "status" }), JSON.stringify({ v: 1, id: "s", cmd: "send", text: "" })].join("\n") + "\n");
  const first = await badReplies;
  bad.destroy();
  const big = net.createConnection("/run/cspace/w.sock");
  const bigReply = lines(big, 1);
  big.on("error", () => undefined);
  big.write("x".repeat(2 * 1024 * 1024) + "\n");
  const tooLarge = await bigReply;
  // The half line is still open: the supervisor answers a well-formed request all the same.
  const good = net.createConnection("/run/cspace/w.sock");
  const goodReply = lines(good, 1);
  good.write(JSON.stringify({ v: 1, id: "ok", cmd: "status" }) + "\n");
  const answered = await goodReply;
  good.destroy();
  half.destroy();
  process.stdout.write(JSON.stringify(first.concat(tooLarge, answered)));
}
main().catch((error) => { process.stderr.write(String(error)); process.exit(1); });
`;

interface Reply {
  readonly id: string | null;
  readonly ok: boolean;
  readonly error?: { readonly code: string };
  readonly status?: WorkerStatus;
}

/** What only the host keeps for the instance (the attempt mark, its copies of launch.json and prompt.md): name and content. */
async function hostSnapshot(f: WorkerFixture): Promise<string[]> {
  const dir = f.paths(INSTANCE).hostDir;
  const names = (await readdir(dir).catch(() => [])).sort();
  return Promise.all(names.map(async (name) => `${name}: ${await readFile(path.join(dir, name), "utf8").catch(() => "<not a file>")}`));
}

/** Each way the impostor answers, and what the host must say about it. */
const ATTACKS: readonly { mode: string; said: RegExp; answered: boolean }[] = [
  { mode: "garbage", said: /broke the protocol answering \w+: .*does not speak cspace protocol v1/, answered: true },
  { mode: "not-an-object", said: /broke the protocol answering \w+: .*does not speak cspace protocol v1/, answered: true },
  { mode: "wrong-id", said: /broke the protocol answering \w+: .*answered another request/, answered: true },
  { mode: "wrong-shape", said: /answered \w+ with a reply cspace does not accept: reply\./, answered: true },
  { mode: "huge", said: /broke the protocol answering \w+: a reply on .* is longer than 1048576 bytes/, answered: true },
  { mode: "endless", said: /broke the protocol answering \w+: a reply on .* is longer than 1048576 bytes/, answered: true },
  { mode: "silent", said: /did not answer send in time/, answered: false },
  { mode: "drip", said: /did not answer send in time/, answered: false },
];

describe("a worker that attacks the host over its w.sock", () => {
  it("cannot wedge its supervisor with bad lines, and an impostor on w.sock gets clear errors in bounded time and memory, changing nothing of the host's", async () => {
    const impostor = await readFile(new URL("./wsock-impostor.mjs", import.meta.url), "utf8");
    const f = await workerFixture("hostile-wsock", cleanups, { "impostor.mjs": impostor, "dial.js": DIAL });
    const up = await f.cli(["up", INSTANCE, "--prompt", script("wait-message")]);
    expect(up.stderr).not.toContain("error");
    expect(up.status).toBe(0);
    const paths = f.paths(INSTANCE);
    await waitForEvent(paths, waitingForMessage);
    const supervisor = (JSON.parse(await readFile(paths.state, "utf8")) as WorkerStatus).pid;

    // Inbound: each bad line gets its error reply, the line past 1 MiB too-large; a half line held open wedges nothing.
    const replies = JSON.parse(await f.sh(INSTANCE, "node dial.js")) as Reply[];
    expect(replies.map((r) => (r.ok ? "ok" : r.error?.code))).toEqual(["bad-json", "bad-request", "unknown-command", "unsupported-version", "bad-request", "too-large", "ok"]);
    expect(replies.at(-1)?.status?.pid).toBe(supervisor);
    const sent = await f.cli(["send", INSTANCE, "still there?"]);
    expect(sent.stderr).toBe("");
    expect(sent.status).toBe(0);
    const alive = JSON.parse((await f.cli(["status", INSTANCE, "--json"])).stdout) as { live: boolean; status: WorkerStatus };
    expect(alive).toMatchObject({ live: true, status: { pid: supervisor } });

    // Outbound: the agent kills its supervisor and answers on w.sock itself. Its mode and tally are in /run/cspace, seen from here.
    const before = await hostSnapshot(f);
    const modeFile = path.join(paths.dir, "impostor-mode");
    const tally = path.join(paths.dir, "impostor-tally");
    await writeFile(modeFile, "garbage");
    await f.sh(
      INSTANCE,
      `kill -9 ${String(supervisor)}; rm -f /run/cspace/w.sock; ` +
        "nohup node impostor.mjs /run/cspace/w.sock /run/cspace/impostor-mode /run/cspace/impostor-tally > /tmp/impostor.log 2>&1 < /dev/null & " +
        "while ! [ -S /run/cspace/w.sock ]; do sleep 0.05; done",
    );

    for (const attack of ATTACKS) {
      await writeFile(modeFile, attack.mode);
      const [send, status, list, interrupt] = await Promise.all([
        f.cli(["send", INSTANCE, "hello"]),
        f.cli(["status", INSTANCE, "--json"]),
        listed(f),
        f.cli(["interrupt", INSTANCE]),
      ]);
      const context = `${attack.mode}: ${send.stderr}`;
      // An external error (exit 3) naming the instance and saying what was wrong; never an internal one.
      expect(send.status, context).toBe(3);
      expect(send.stderr, context).toContain(`instance "${INSTANCE}"`);
      expect(send.stderr, context).toMatch(attack.said);
      expect(interrupt.status, `${attack.mode}: ${interrupt.stderr}`).toBe(3);
      expect(interrupt.stderr).toContain(`instance "${INSTANCE}"`);
      const agent = list.find((entry) => entry.instance === INSTANCE)?.agent;
      if (attack.answered) {
        // Someone answered, wrongly: status says so (exit 3), list shows it as the reason the agent is lost.
        expect(status.status, `${attack.mode}: ${status.stderr}`).toBe(3);
        expect(JSON.parse(status.stdout)).toMatchObject({ error: { kind: "external", message: expect.stringContaining(`instance "${INSTANCE}"`) as unknown } });
        expect(agent?.state, attack.mode).toBe("lost");
        expect(agent?.lostBecause, attack.mode).toContain(`instance "${INSTANCE}"`);
      } else {
        // Nobody answered in time: status and list fall back on what was recorded, as for a supervisor that hangs.
        expect(status.status, `${attack.mode}: ${status.stderr}`).toBe(0);
        expect(JSON.parse(status.stdout)).toMatchObject({ live: false });
      }
    }

    // The host stopped reading at the bound: what the impostor got out is that plus the kernel's socket buffers.
    const written = (await readFile(tally, "utf8")).trim().split("\n").map((line) => line.split(" "));
    const flooded = written.filter(([mode]) => mode === "huge" || mode === "endless").map(([, bytes]) => Number(bytes));
    expect(flooded.length).toBeGreaterThanOrEqual(2);
    for (const bytes of flooded) expect(bytes).toBeLessThan(MAX_WORKER_REPLY_BYTES + 8 * 1024 * 1024);
    expect(await hostSnapshot(f)).toEqual(before);
  }, 600_000);
});
