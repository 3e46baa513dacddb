import { afterEach, describe, expect, inject, it } from "vitest";
import { newRequestId, request } from "../../src/adapters/messaging/client.ts";
import { openRelay, type RelayHandle } from "../../src/adapters/messaging/relay/open-relay.ts";
import { serveNdjson, type NdjsonServer } from "../../src/adapters/messaging/server.ts";
import type { Reply, Request } from "../../src/core/messaging/protocol.ts";
import { CONTAINER_USER, relayWorker, stateWatcher, type RelayWorker } from "../support/relay-worker.ts";

/**
 * The message relay with a real worker: the supervisor and its scripted
 * agent in a container whose instance directory lives inside it (nothing is
 * bind-mounted), the host's w.sock and c.sock in a directory the container
 * never sees. Only the relay can carry a message between them.
 */

const runId = inject("cspaceTestRun");
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Requests the "coordinator" got on the host's c.sock, and a way to wait for one. */
class Coordinator {
  readonly seen: Request[] = [];
  #waiters: { match: (r: Request) => boolean; resolve: (r: Request) => void }[] = [];
  server: NdjsonServer | null = null;

  take(request: Request): Reply {
    this.seen.push(request);
    for (const waiter of this.#waiters.filter((w) => w.match(request))) {
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      waiter.resolve(request);
    }
    return { v: 1, id: request.id, ok: true };
  }

  next(match: (r: Request) => boolean): Promise<Request> {
    const already = this.seen.find(match);
    if (already !== undefined) return Promise.resolve(already);
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }
}

async function setUp(name: string): Promise<{ worker: RelayWorker; coordinator: Coordinator; relay: RelayHandle; watch: ReturnType<typeof stateWatcher>; notices: string[] }> {
  const worker = await relayWorker(runId, name);
  cleanups.push(() => worker.remove());
  const coordinator = new Coordinator();
  coordinator.server = await serveNdjson(`${worker.hostDir}/c.sock`, (r) => coordinator.take(r), { accepted: ["report", "send", "status"] });
  const server = coordinator.server;
  cleanups.push(() => server.close());
  const watch = stateWatcher();
  const notices: string[] = [];
  const relay = openRelay({ runtime: worker.gated, containerId: worker.id, user: CONTAINER_USER, hostDir: worker.hostDir, heartbeatMs: 1000, minBackoffMs: 50, onNotice: (text) => notices.push(text), onStateChange: watch.onStateChange });
  cleanups.push(() => relay.close());
  worker.gated.allow();
  await relay.ready;
  return { worker, coordinator, relay, watch, notices };
}

const ask = (worker: RelayWorker, message: Omit<Request, "v" | "id">, timeoutMs = 30_000): Promise<Reply> =>
  request(`${worker.hostDir}/w.sock`, { v: 1, id: newRequestId(), ...message }, { timeoutMs });

/** Asks for status until the supervisor answers (it starts after the relay). */
async function statusOnceUp(worker: RelayWorker): Promise<Reply> {
  for (;;) {
    const reply = await ask(worker, { cmd: "status" }).catch(() => null);
    if (reply !== null) return reply;
  }
}

describe("the message relay to a worker with no shared directory", () => {
  it("carries status and send both ways, a report to the host, and a message sent while the relay was down", async () => {
    const { worker, coordinator, relay, watch, notices } = await setUp("relay-roundtrip");
    await worker.startSupervisor(["cspace-script: say hello through the relay", "cspace-script: wait-message", "cspace-script: wait-message"].join("\n"));

    const said = await coordinator.next((r) => r.cmd === "send");
    expect(said).toMatchObject({ cmd: "send", text: "hello through the relay" });
    const status = await statusOnceUp(worker);
    expect(status).toMatchObject({ ok: true, status: { instance: "issue-1", preset: "scripted" } });
    expect(await ask(worker, { cmd: "send", text: "first message", from: "host" })).toMatchObject({ ok: true, queued: true });

    // The relay dies in the container (what a killed sshd or an agent's pkill does to it).
    await worker.sh(`kill -9 ${(await worker.relayPids()).join(" ")}`, { root: true });
    await watch.reach("down");
    expect(relay.stats()).toMatchObject({ state: "down", losses: 1 });

    // While it is down the host's w.sock still takes a client. One that gives up waiting (its send timed out and said so)
    // is never delivered later: nothing acts on a request behind its sender's back, nor twice when it is sent again.
    const before = relay.stats().channelsOpened;
    const givenUp = ask(worker, { cmd: "send", text: "given up during the outage", from: "host" }, 300);
    await expect(givenUp).rejects.toThrow();
    expect(relay.stats().channelsOpened).toBe(before + 1);
    while (relay.stats().localClients > 0) await new Promise((resolve) => setImmediate(resolve));
    // Another client waits: its message goes with the next relay.
    const opened = relay.stats().channelsOpened;
    const during = ask(worker, { cmd: "send", text: "sent during the outage", from: "host" }, 60_000);
    while (relay.stats().channelsOpened === opened) await new Promise((resolve) => setImmediate(resolve));
    worker.gated.allow();
    expect(await during).toMatchObject({ ok: true, queued: true });
    expect(relay.stats()).toMatchObject({ state: "up", sessions: 2 });
    expect(notices.some((text) => /is down: the relay's exec ended/.test(text))).toBe(true);
    expect(notices.some((text) => /is back/.test(text))).toBe(true);

    // Both messages reached the agent (it waited for two), so it finished and its report came to the host.
    const report = await coordinator.next((r) => r.cmd === "report");
    expect(report).toMatchObject({ cmd: "report", report: { instance: "issue-1", exitCode: 0 } });
    const events = await worker.sh("cat /run/cspace/events.ndjson");
    expect(events).toContain("first message");
    expect(events).toContain("sent during the outage");
    expect(events).not.toContain("given up during the outage");
  });

  it("ends the relay in the container when the host drops its exec, and when the host closes it", async () => {
    const { worker, relay, watch } = await setUp("relay-drop");
    expect(await worker.relayPids()).toHaveLength(1);
    // The host side of the exec vanishes (as when the host's connection to the engine breaks): no new one is allowed yet.
    worker.gated.streams[0]?.close();
    await watch.reach("down");
    while ((await worker.relayPids()).length > 0) await new Promise((resolve) => setImmediate(resolve));

    worker.gated.allow();
    await watch.reach("up");
    expect(await worker.relayPids()).toHaveLength(1);
    await relay.close();
    expect(relay.stats().state).toBe("closed");
    while ((await worker.relayPids()).length > 0) await new Promise((resolve) => setImmediate(resolve));
    expect(await worker.sh("ls -A /run/cspace")).not.toContain("c.sock");
  });
});
