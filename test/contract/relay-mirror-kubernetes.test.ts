import { once } from "node:events";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, readdir, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openInstanceMirror } from "../../src/adapters/fs/instance-mirror.ts";
import { openKubernetesRuntime } from "../../src/adapters/kubernetes/runtime.ts";
import { newRequestId, request } from "../../src/adapters/messaging/client.ts";
import { openRelay } from "../../src/adapters/messaging/relay/open-relay.ts";
import { serveNdjson } from "../../src/adapters/messaging/server.ts";
import { workerBundleFiles } from "../../src/adapters/worker-bundle.ts";
import { KEEP_ALIVE, WORKER_CAPABILITIES } from "../../src/core/devcontainer/create-options.ts";
import type { ContainerRuntime } from "../../src/core/instances/ports.ts";
import type { Reply, Request } from "../../src/core/messaging/protocol.ts";
import { startFakeKube, type FakeKube } from "../support/fake-kube/server.ts";

/**
 * The message relay and the instance-directory mirror over a pod's exec
 * (v5.channel.k8s.io), against the project's own API server
 * (test/support/fake-kube): a worker pod as the remote bring-up makes one
 * (its checkout a claim, /run/cspace a folder of its own inside it), the
 * worker bundle (dist/worker, so `npm run build` first) copied in through
 * the adapter's copyIn, and the supervisor with the scripted agent running
 * there. The host's w.sock, c.sock and copy of the instance directory are in
 * a directory the pod is never told of: only the relay and the mirror carry
 * anything between them.
 */

const USER = "1000:1000";
const USER_ENV = { HOME: "/work" };

let dir = "";
let kube: FakeKube;
let runtime: ContainerRuntime;
const labels = { "dev.cspace.test": randomBytes(4).toString("hex") };

beforeAll(async () => {
  dir = await realpath(await mkdtemp(path.join(os.tmpdir(), "cspace-k8s-relay-")));
  kube = await startFakeKube({ dir });
  runtime = openKubernetesRuntime({ name: "k8s", context: kube.context, namespace: kube.namespace, kubeconfig: kube.kubeconfig });
}, 60_000);

afterAll(async () => {
  try {
    expect(kube.violations).toEqual([]);
  } finally {
    await kube.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

/** Requests the "coordinator" got on the host's c.sock, and a way to wait for one. */
class Coordinator {
  readonly seen: Request[] = [];
  #waiters: { match: (r: Request) => boolean; resolve: (r: Request) => void }[] = [];

  take(got: Request): Reply {
    this.seen.push(got);
    for (const waiter of this.#waiters.filter((w) => w.match(got))) {
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      waiter.resolve(got);
    }
    return { v: 1, id: got.id, ok: true };
  }

  next(match: (r: Request) => boolean): Promise<Request> {
    const already = this.seen.find(match);
    if (already !== undefined) return Promise.resolve(already);
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }
}

/** A script in the pod as the worker's user (or root): its stdout, failing on a non-zero exit. */
async function sh(pod: string, script: string, options: { readonly root?: boolean; readonly env?: Readonly<Record<string, string>> } = {}): Promise<string> {
  const outcome = await runtime.exec(pod, ["/bin/sh", "-c", script], options.root === true ? { user: "0:0", env: { ...options.env } } : { user: USER, env: { ...USER_ENV, ...options.env } });
  expect(outcome.exitCode, `${script}: ${outcome.stderr}`).toBe(0);
  return outcome.stdout;
}

/** The fake's processes behind the pod's execs of `worker.cjs <role>`. */
function execsOf(pod: string, role: string) {
  return [...(kube.pods.get(pod)?.execs ?? [])].filter((child) => child.spawnargs.includes("/opt/cspace/worker.cjs") && child.spawnargs.includes(role));
}

describe("the relay and the instance mirror over a Kubernetes pod's exec (the project's API server)", () => {
  it("carries a status and a message round trip and the agent's report, brings appended events to the host's copy, and ends its execs when closed", async () => {
    const name = `cspace-relay-${randomBytes(3).toString("hex")}`;
    const pod = await runtime.create({
      name,
      Image: "registry.example/cspace-base:bookworm",
      Env: [],
      Labels: labels,
      User: USER,
      WorkingDir: "/",
      Entrypoint: [...KEEP_ALIVE.Entrypoint],
      Cmd: [...KEEP_ALIVE.Cmd],
      HostConfig: {
        Mounts: [{ Type: "volume", Source: `${name}-work`, Target: "/work", ReadOnly: false, VolumeOptions: { Labels: labels } }],
        CapDrop: ["ALL"],
        CapAdd: [...WORKER_CAPABILITIES],
        SecurityOpt: ["no-new-privileges"],
      },
    });
    await runtime.start(pod);
    // What the pool does first for a remote worker: the relay and the mirror are roles of the bundle.
    await runtime.copyIn(pod, await workerBundleFiles());
    await sh(pod, "mkdir -p /run/cspace && chown 1000:1000 /run/cspace /work && chmod 0700 /run/cspace", { root: true });
    await sh(pod, "cd /work && git init -q -b issue-1 && git -c user.name=t -c user.email=t@example.invalid commit -q --allow-empty -m base");

    const hostDir = path.join(dir, "run", "issue-1");
    await mkdir(hostDir, { recursive: true, mode: 0o700 });
    const coordinator = new Coordinator();
    const server = await serveNdjson(path.join(hostDir, "c.sock"), (got) => coordinator.take(got), { accepted: ["report", "send", "status"] });
    const mirror = await openInstanceMirror({ runtime, containerId: pod, user: USER, hostDir });
    const relay = openRelay({ runtime, containerId: pod, user: USER, hostDir, heartbeatMs: 1000, minBackoffMs: 50 });
    try {
      await relay.ready;
      expect(execsOf(pod, "relay")).toHaveLength(1);
      expect(execsOf(pod, "mirror")).toHaveLength(1);

      const launch = {
        v: 1, instance: "issue-1", preset: "scripted", command: null, commandInput: "per-message", model: null,
        branch: "issue-1", base: "main", baseSha: null, workdir: "/work", promptFile: "/run/cspace/prompt.md",
        resumeSessionId: null, restartReason: null, resumedCostUsd: null, eventsMaxBytes: 1048576, stopGraceMs: 2000, reportRetryMaxMs: 1000,
      };
      const prompt = ["cspace-script: say hello through the relay", "cspace-script: wait-message"].join("\n");
      await sh(pod, `printf '%s' "$LAUNCH" > /run/cspace/launch.json && printf '%s' "$PROMPT" > /run/cspace/prompt.md`, { env: { LAUNCH: JSON.stringify(launch), PROMPT: prompt } });
      await runtime.execDetached(pod, ["node", "/opt/cspace/worker.cjs", "supervise", "/run/cspace"], { user: USER, env: USER_ENV });

      // The agent's message to the coordinator came out through the relay, onto the host's c.sock.
      expect(await coordinator.next((r) => r.cmd === "send")).toMatchObject({ cmd: "send", text: "hello through the relay" });
      // The host's w.sock answers for the supervisor in the pod: status, then a message in.
      const ask = (message: Omit<Request, "v" | "id">): Promise<Reply> => request(path.join(hostDir, "w.sock"), { v: 1, id: newRequestId(), ...message }, { timeoutMs: 30_000 });
      expect(await ask({ cmd: "status" })).toMatchObject({ ok: true, status: { instance: "issue-1", preset: "scripted" } });
      expect(await ask({ cmd: "send", text: "a message from the host", from: "host" })).toMatchObject({ ok: true, queued: true });
      // The agent waited for it, so it finished, and its report reached the host.
      expect(await coordinator.next((r) => r.cmd === "report")).toMatchObject({ cmd: "report", report: { instance: "issue-1", exitCode: 0 } });

      // The events the supervisor wrote, and a line appended after, are in the host's copy as in the pod.
      await sh(pod, `printf '%s\\n' '{"ts":"2026-05-01T10:00:00.000Z","source":"agent","type":"text","text":"appended by hand"}' >> /run/cspace/events.ndjson`);
      await mirror.synced();
      const here = await readFile(path.join(hostDir, "events.ndjson"), "utf8");
      expect(here).toBe(await sh(pod, "cat /run/cspace/events.ndjson"));
      expect(here).toContain("a message from the host");
      expect(here.trimEnd().split("\n").at(-1)).toContain("appended by hand");
      expect(mirror.lost).toBeNull();

      // Closing the relay ends its exec in the pod (end of input over the v5 close frame), and the host's w.sock goes.
      const [relayExec] = execsOf(pod, "relay");
      const relayEnded = relayExec === undefined || relayExec.exitCode !== null ? Promise.resolve() : once(relayExec, "close");
      await relay.close();
      await relayEnded;
      expect(execsOf(pod, "relay")).toEqual([]);
      expect(await readdir(hostDir)).not.toContain("w.sock");
      const [mirrorExec] = execsOf(pod, "mirror");
      const mirrorEnded = mirrorExec === undefined || mirrorExec.exitCode !== null ? Promise.resolve() : once(mirrorExec, "close");
      await mirror.close();
      await mirrorEnded;
      expect(execsOf(pod, "mirror")).toEqual([]);
    } finally {
      await relay.close();
      await mirror.close();
      await server.close();
      await runtime.remove(pod);
      await runtime.removeVolume(`${name}-work`);
    }
    expect([...kube.pods.keys()]).toEqual([]);
    expect([...kube.claims.keys()]).toEqual([]);
  }, 180_000);
});
