// Engine requests over one SSH connection against the engine's own socket.
//
// Starts a remote engine test bed (test/support/remote-engines.ts: a dockerd
// and an sshd in a network namespace, 200 Mbit/s), then times 50 concurrent
// requests of each kind (inspect, list, exec) through openSshRuntime (every
// request a channel of one SSH connection) and through a DockerRuntime on the
// same engine's Unix socket. Prints the start-up time of the test bed and
// p50/p99 per kind and path. Needs root, like the docker lane.
//
// For contrast, 50 concurrent `list` requests through docker-modem's own ssh
// mode, which opens an SSH connection per request (and runs
// `docker system dial-stdio` there: the test bed shares this machine's
// filesystem, so that reaches this machine's engine; what is measured is
// sshd taking 50 logins at once).
//
//   node bench/remote/ssh-requests.ts [--rounds 3]
import { readFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import Dockerode from "dockerode";
import { DockerRuntime } from "../../src/adapters/docker/containers.ts";
import { openSshRuntime } from "../../src/adapters/docker/ssh/runtime.ts";
import type { ContainerRuntime } from "../../src/core/instances/ports.ts";
import { BASE_IMAGE } from "../../test/support/docker.ts";
import { startRemoteEngine } from "../../test/support/remote-engines.ts";

const CONCURRENT = 50;
const roundsFlag = process.argv.indexOf("--rounds");
const rounds = roundsFlag === -1 ? 3 : Number(process.argv[roundsFlag + 1]);

const startedAt = performance.now();
const engine = await startRemoteEngine("bench");
const startupMs = performance.now() - startedAt;
const ssh = await openSshRuntime({
  name: "bench",
  endpoint: engine.endpoint,
  ssh: { identityFile: engine.identityFile, knownHosts: engine.knownHostsFile, socket: engine.socketPath },
});
const local = new DockerRuntime({ DOCKER_HOST: `unix://${engine.socketPath}` });

try {
  const id = await local.create({ name: "cspace-bench-ssh", Image: BASE_IMAGE, Env: [], Labels: {}, WorkingDir: "/", Cmd: ["sleep", "infinity"], HostConfig: { Mounts: [] } });
  await local.start(id);
  const kinds: Record<string, (runtime: ContainerRuntime) => Promise<unknown>> = {
    inspect: (runtime) => runtime.inspect(id),
    list: (runtime) => runtime.list({}),
    exec: (runtime) => runtime.exec(id, ["true"]),
  };
  console.log(`test bed (netns, dockerd, sshd, base image loaded): ${(startupMs / 1000).toFixed(1)} s`);
  console.log(`${String(CONCURRENT)} concurrent requests, ${String(rounds)} rounds; latency of each request, ms`);
  console.log("kind     path              p50      p99   failed");
  for (const [kind, ask] of Object.entries(kinds)) {
    for (const [path, runtime] of [["ssh (1 conn)", ssh.runtime], ["unix socket", local]] as const) {
      const times: number[] = [];
      let failed = 0;
      for (let round = 0; round < rounds; round++) {
        await Promise.all(
          Array.from({ length: CONCURRENT }, async () => {
            const start = performance.now();
            try {
              await ask(runtime);
              times.push(performance.now() - start);
            } catch {
              failed += 1;
            }
          }),
        );
      }
      console.log(`${kind.padEnd(8)} ${path.padEnd(14)} ${fmt(percentile(times, 50))} ${fmt(percentile(times, 99))} ${String(failed).padStart(8)}`);
    }
  }
  console.log(`ssh connections sshd accepted: ${String(await engine.sshConnectionsAccepted())}`);

  const before = await engine.sshConnectionsAccepted();
  const perRequest = new Dockerode({
    protocol: "ssh",
    host: engine.address,
    port: 22,
    username: "root",
    sshOptions: { privateKey: await readFile(engine.identityFile) },
  });
  const times: number[] = [];
  const reasons = new Map<string, number>();
  await Promise.all(
    Array.from({ length: CONCURRENT }, async () => {
      const start = performance.now();
      try {
        await perRequest.listContainers();
        times.push(performance.now() - start);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      }
    }),
  );
  console.log(
    `docker-modem ssh mode, ${String(CONCURRENT)} concurrent list: ${String(times.length)} succeeded (p50 ${fmt(percentile(times, 50)).trim()} ms), ` +
      `${String(CONCURRENT - times.length)} failed ${JSON.stringify(Object.fromEntries(reasons))}; sshd accepted ${String((await engine.sshConnectionsAccepted()) - before)} logins`,
  );
  await local.remove(id);
} finally {
  await ssh.close();
  await engine.stop();
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function fmt(ms: number): string {
  return ms.toFixed(1).padStart(8);
}
