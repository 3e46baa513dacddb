import { createHash } from "node:crypto";
import { text } from "node:stream/consumers";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openSshRuntime, type SshRuntime } from "../../src/adapters/docker/ssh/runtime.ts";
import { connectDocker, dockerEndpoint } from "../../src/adapters/docker/engine.ts";
import { ExternalError } from "../../src/core/errors.ts";
import type { ContainerCreateSpec } from "../../src/core/devcontainer/create-options.ts";
import { BASE_IMAGE, testDocker, testLabels } from "../support/docker.ts";
import { startRemoteEngine, type RemoteEngine } from "../support/remote-engines.ts";

/**
 * A remote Docker engine reached over SSH, for real: a second dockerd and an
 * sshd in a network namespace of this test's own (test/support/remote-engines.ts),
 * driven through the same DockerRuntime as the local engine, every request a
 * channel of one SSH connection.
 */

const runId = inject("cspaceTestRun");
let engine: RemoteEngine;
const opened: SshRuntime[] = [];

beforeAll(async () => {
  engine = await startRemoteEngine("ssh-engine");
}, 300_000);

afterAll(async () => {
  await Promise.all(opened.splice(0).map((ssh) => ssh.close()));
  await engine.stop();
}, 300_000);

async function remote(options: Parameters<typeof openSshRuntime>[0]["connection"] = {}): Promise<SshRuntime> {
  const ssh = await openSshRuntime({
    name: "big",
    endpoint: engine.endpoint,
    ssh: { identityFile: engine.identityFile, knownHosts: engine.knownHostsFile, socket: engine.socketPath },
    env: { HOME: "/nonexistent", PATH: process.env.PATH ?? "" },
    connection: options,
  });
  opened.push(ssh);
  return ssh;
}

function spec(name: string, cmd: readonly string[]): ContainerCreateSpec {
  return { name, Image: BASE_IMAGE, Env: [], Labels: testLabels(runId, `ssh-engine-${runId}`), WorkingDir: "/", Cmd: cmd, HostConfig: { Mounts: [] } };
}

/** The engine's own socket on this machine: how the test checks what the remote engine holds, around SSH. */
function engineHere(): ReturnType<typeof connectDocker> {
  return connectDocker(dockerEndpoint({ DOCKER_HOST: `unix://${engine.socketPath}` }));
}

describe("a remote engine over SSH", () => {
  it("answers ping and says what it is", async () => {
    const { runtime } = await remote();
    await runtime.ping();
    const info = await runtime.engineInfo();
    expect(info.version).toMatch(/^\d+\.\d+/);
    expect(runtime.endpoint).toBe(engine.endpoint);
  });

  it("creates, starts, execs, streams, copies into, logs and removes a container there, and never on the local engine", async () => {
    const { runtime } = await remote();
    const name = `cspace-ssh-engine-${runId}`;
    const id = await runtime.create(spec(name, ["/bin/sh", "-c", "echo started-on-remote; exec sleep infinity"]));
    try {
      await runtime.start(id);
      expect((await runtime.inspect(name))?.state).toBe("running");
      expect((await engineHere().getContainer(id).inspect()).Name).toBe(`/${name}`);
      await expect(testDocker().getContainer(id).inspect()).rejects.toMatchObject({ statusCode: 404 });
      expect((await runtime.list(testLabels(runId, `ssh-engine-${runId}`))).map((c) => c.id)).toEqual([id]);

      await runtime.copyIn(id, [{ path: "/opt/cspace-test/greeting.txt", content: "copied over ssh\n", mode: 0o640 }]);
      const read = await runtime.exec(id, ["/bin/sh", "-c", "cat /opt/cspace-test/greeting.txt; stat -c %a /opt/cspace-test/greeting.txt; echo oops >&2; exit 4"]);
      expect(read).toEqual({ exitCode: 4, stdout: "copied over ssh\n640\n", stderr: "oops\n" });

      // A hijacked exec with input: binary in, stdout and stderr apart, end of input passed on, the exit code after.
      const stream = await runtime.execStream(id, ["/bin/sh", "-c", "sha256sum; echo to-stderr >&2; exit 3"]);
      const input = Buffer.alloc(2 * 1024 * 1024, 9);
      const out = text(stream.stdout);
      const err = text(stream.stderr);
      stream.stdin.end(input);
      expect((await out).split(" ")[0]).toBe(createHash("sha256").update(input).digest("hex"));
      expect(await err).toBe("to-stderr\n");
      expect(await stream.exit).toBe(3);

      // The main process wrote its line when it started; the engine's log catches up with it.
      await expect.poll(() => runtime.logs(id), { timeout: 60_000, interval: 200 }).toContain("started-on-remote");
    } finally {
      expect(await runtime.remove(id)).toBe(true);
    }
    expect(await runtime.inspect(id)).toBeNull();
  });

  it("serves 50 concurrent requests over one SSH connection: sshd accepts a single login", async () => {
    // Logins before this runtime's first request: the other tests' connections.
    const before = await engine.sshConnectionsAccepted();
    const ssh = await remote();
    const { runtime } = ssh;
    const id = await runtime.create(spec(`cspace-ssh-fifty-${runId}`, ["sleep", "infinity"]));
    try {
      await runtime.start(id);
      const requests = Array.from({ length: 50 }, async (_, index) => {
        switch (index % 3) {
          case 0:
            return (await runtime.inspect(id))?.state;
          case 1:
            return (await runtime.list(testLabels(runId, `ssh-engine-${runId}`))).length === 1 ? "running" : "listed wrong";
          default:
            return (await runtime.exec(id, ["echo", "running"])).stdout.trim();
        }
      });
      const answers = await Promise.all(requests);
      expect(answers).toEqual(Array.from({ length: 50 }, () => "running"));
      expect(await engine.sshConnectionsAccepted()).toBe(before + 1);
      expect(ssh.connectionsOpened()).toBe(1);
    } finally {
      await runtime.remove(id);
    }
  });

  it("fails a request in flight with an error naming the host when sshd dies, and connects again once sshd is back", async () => {
    const ssh = await remote({ readyTimeoutMs: 60_000 });
    const { runtime } = ssh;
    const id = await runtime.create(spec(`cspace-ssh-lost-${runId}`, ["sleep", "infinity"]));
    try {
      await runtime.start(id);
      const marker = `cspace-held-${runId}`;
      const held = runtime.exec(id, ["/bin/sh", "-c", `sleep 600; : ${marker}`]);
      held.catch(() => undefined);
      // In flight for sure: the command runs in the container (seen around SSH, on the engine's own socket).
      await expect
        .poll(async () => JSON.stringify(await engineHere().getContainer(id).top({ ps_args: "-eo pid,args" })), { timeout: 60_000, interval: 200 })
        .toContain(marker);
      await engine.killSshd();
      const failure = await held.then(
        () => new Error("the request succeeded although its connection died"),
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(ExternalError);
      expect((failure as Error).message).toContain(`lost the SSH connection to big (${engine.endpoint})`);

      // No sshd: the next request cannot connect, and says where it tried.
      await expect(runtime.inspect(id)).rejects.toThrow(/cannot connect to big \(ssh:\/\/root@/);

      await engine.startSshd();
      expect((await runtime.inspect(id))?.state).toBe("running");
      expect(ssh.connectionsOpened()).toBe(2);
    } finally {
      await engineHere().getContainer(id).remove({ force: true });
    }
  });

  it("notices a host gone silent by its keepalives, and connects again once the network is back", async () => {
    // Keepalives every second, two unanswered and it is lost: TCP alone would wait minutes for a silent peer.
    const ssh = await remote({ keepaliveIntervalMs: 1_000, keepaliveCountMax: 2, readyTimeoutMs: 60_000 });
    const { runtime } = ssh;
    const id = await runtime.create(spec(`cspace-ssh-silent-${runId}`, ["sleep", "infinity"]));
    try {
      await runtime.start(id);
      const marker = `cspace-silent-${runId}`;
      const held = runtime.exec(id, ["/bin/sh", "-c", `sleep 600; : ${marker}`]);
      held.catch(() => undefined);
      await expect
        .poll(async () => JSON.stringify(await engineHere().getContainer(id).top({ ps_args: "-eo pid,args" })), { timeout: 60_000, interval: 200 })
        .toContain(marker);
      await engine.setLinkUp(false);
      try {
        const failure = await held.then(
          () => new Error("the request succeeded although its host went silent"),
          (error: unknown) => error,
        );
        expect(failure).toBeInstanceOf(ExternalError);
        expect((failure as Error).message).toContain(`lost the SSH connection to big (${engine.endpoint})`);
      } finally {
        await engine.setLinkUp(true);
      }
      expect((await runtime.inspect(id))?.state).toBe("running");
      expect(ssh.connectionsOpened()).toBe(2);
    } finally {
      await engineHere().getContainer(id).remove({ force: true });
    }
  });
});
