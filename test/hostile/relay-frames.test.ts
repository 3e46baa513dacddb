import { createServer, type Socket } from "node:net";
import { afterEach, describe, expect, inject, it } from "vitest";
import { openRelay } from "../../src/adapters/messaging/relay/open-relay.ts";
import { CONTAINER_USER, relayWorker, stateWatcher } from "../support/relay-worker.ts";

/**
 * A prompt-injected agent in a real remote-style worker attacks the host
 * through its message relay. It cannot replace the relay's program (root's
 * /opt/cspace/worker.cjs) nor ptrace it, but it runs as the same user, so it
 * can write anything into the relay's stdout through /proc/<pid>/fd/1: the
 * frames the host reads. Garbage, an oversized frame, a channel id only the
 * host gives out, data on a channel never opened, an open smuggling a target
 * path, an unknown kind: each ends the exec with a reason that says what was
 * wrong, and nothing reaches the host's sockets (the coordinator's c.sock
 * sees no connection). The host then starts a fresh relay, as after any loss.
 */

const runId = inject("cspaceTestRun");
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const ATTACKS: readonly { readonly name: string; readonly write: string; readonly reason: RegExp }[] = [
  { name: "garbage", write: `printf 'this is not a frame\\n'`, reason: /a frame is not JSON: "this is not a frame"/ },
  { name: "an oversized frame", write: `head -c 300000 /dev/zero | tr '\\0' a; echo`, reason: /a frame is longer than 73728 bytes/ },
  { name: "a channel id only the host gives out", write: `printf '%s\\n' '{"t":"open","s":1,"ch":2}'`, reason: /the peer opened channel 2, an id only this side gives out/ },
  { name: "data on a channel never opened", write: `printf '%s\\n' '{"t":"data","s":1,"ch":9,"d":"aGk="}'`, reason: /the peer sent data on channel 9, which is not open/ },
  { name: "an open smuggling a target", write: `printf '%s\\n' '{"t":"open","s":1,"ch":1,"path":"/var/run/docker.sock"}'`, reason: /a open frame has fields it must not have: path/ },
  { name: "an unknown kind", write: `printf '%s\\n' '{"t":"exec","cmd":["sh","-c","id"]}'`, reason: /a frame of unknown kind "exec"/ },
];

describe("hostile frames from a worker's relay", () => {
  it("end the exec with a clear reason and reach nothing on the host", async () => {
    const worker = await relayWorker(runId, "relay-hostile");
    cleanups.push(() => worker.remove());
    // The instance's c.sock on the host: the only socket a relay may ever reach. Nothing may reach it here.
    const reached: Socket[] = [];
    const coordinator = createServer((socket) => {
      reached.push(socket);
      socket.destroy();
    });
    await new Promise<void>((resolve) => coordinator.listen(`${worker.hostDir}/c.sock`, resolve));
    cleanups.push(() => new Promise((resolve) => coordinator.close(() => { resolve(); })));
    const watch = stateWatcher();
    // A long heartbeat: nothing but the attack is written to the relay's stdout while it runs.
    const relay = openRelay({ runtime: worker.gated, containerId: worker.id, user: CONTAINER_USER, hostDir: worker.hostDir, heartbeatMs: 30_000, minBackoffMs: 10, onStateChange: watch.onStateChange });
    cleanups.push(() => relay.close());
    worker.gated.allow();
    await relay.ready;

    const outcomes: { name: string; reason: string | null }[] = [];
    for (const attack of ATTACKS) {
      await watch.reach("up");
      const [pid, ...others] = await worker.relayPids();
      expect(others).toEqual([]);
      await worker.sh(`(${attack.write}) > /proc/${String(pid)}/fd/1`);
      await watch.reach("down");
      outcomes.push({ name: attack.name, reason: relay.stats().lastLoss });
      // The relay it gave up on does not stay behind.
      while ((await worker.relayPids()).includes(pid ?? -1)) await new Promise((resolve) => setImmediate(resolve));
      worker.gated.allow();
    }
    for (const [index, attack] of ATTACKS.entries()) {
      expect(outcomes[index]?.reason, attack.name).toMatch(attack.reason);
      expect(outcomes[index]?.reason, attack.name).toMatch(/^the relay broke the protocol: /);
    }
    expect(reached).toEqual([]);
    await watch.reach("up");
    expect(relay.stats()).toMatchObject({ losses: ATTACKS.length, sessions: ATTACKS.length + 1, openChannels: 0 });
  });
});
