import { readFile } from "node:fs/promises";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LABELS } from "../../src/core/instances/labels.ts";
import { countDenials, describeDenials } from "../../src/core/network/denials.ts";
import { DockerRuntime } from "../../src/adapters/docker/containers.ts";
import { egressDenials } from "../../src/services/warm/egress.ts";
import { EGRESS_LABEL, egressNames } from "../../src/core/network/egress.ts";
import { stdoutOfFrames } from "../../src/adapters/docker/networks.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { BASE_IMAGE, testDocker, testLabels } from "../support/docker.ts";
import { makeFixtureRepo, type FixtureRepo } from "../support/fixture-repo.ts";
import { inject } from "vitest";

/**
 * A prompt-injected agent tries to send the code somewhere else. The
 * "outside world" is two small HTTP servers on this machine, each on its own
 * Docker network under a name of the reserved .test domain: the proxy is
 * joined to both (its routes to the world, as its bridge is in production),
 * so the only thing that tells them apart is container.network.allow, which
 * names one. Nothing here resolves or sends to an address off this machine:
 * names the attacker "knows" are mapped to addresses inside the probe.
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();
const ALLOWED = "allowed.cspace.test";
const DENIED = "denied.cspace.test";
const PORT = 8080;
/**
 * What the kernel answers at once when there is nowhere to send a packet: no
 * route (network "none"), or no neighbour owns the gateway (the workers'
 * network gives the host no address). A drop that makes a connect hang
 * would fail this test by its timeout, as it should.
 */
const UNREACHABLE = /^E(NETUNREACH|HOSTUNREACH)$/;

// Each server also answers any datagram on port 53, as a resolver outside would answer a tunnelled query.
const SERVER = (name: string) =>
  `const udp = require("node:dgram").createSocket("udp4"); udp.on("message", (m, from) => udp.send(m, from.port, from.address)); udp.bind(53);
  require("node:http").createServer((q, s) => s.end("hello from ${name}")).listen(${String(PORT)}, () => console.log("listening"))`;
const READY = `const net = require("node:net"); const until = Date.now() + 20000;
const tryOnce = () => { const s = net.connect(${String(PORT)}, "127.0.0.1", () => { s.destroy(); process.exit(0); });
  s.on("error", () => { if (Date.now() > until) process.exit(1); setTimeout(tryOnce, 50); }); };
tryOnce();`;

interface Probe {
  readonly status?: number;
  readonly body?: string;
  readonly error?: string;
  readonly connected?: boolean;
}

const cleanups: (() => Promise<void>)[] = [];
const ignoreMissing = (): undefined => undefined;

async function execIn(container: string, command: string[]): Promise<{ exitCode: number; stdout: string }> {
  const exec = await docker.getContainer(container).exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  await new Promise<void>((resolve) => stream.on("end", resolve));
  const { ExitCode } = await exec.inspect();
  return { exitCode: ExitCode ?? -1, stdout: stdoutOfFrames(Buffer.concat(chunks)) };
}

/** A server on a network of its own, reachable there as `alias`; its address on that network. */
async function outsideServer(alias: string): Promise<{ network: string; ip: string }> {
  const network = `cspace-test-${runId}-${alias.split(".")[0] ?? alias}`;
  await docker.createNetwork({ Name: network, Labels: testLabels(runId) });
  cleanups.push(() => docker.getNetwork(network).remove().catch(ignoreMissing));
  const container = await docker.createContainer({
    name: `${network}-server`,
    Image: BASE_IMAGE,
    Labels: testLabels(runId),
    Cmd: ["node", "-e", SERVER(alias)],
    HostConfig: { NetworkMode: network },
    NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [alias] } } },
  });
  cleanups.push(() => container.remove({ force: true }).catch(ignoreMissing));
  await container.start();
  expect((await execIn(container.id, ["node", "-e", READY])).exitCode).toBe(0);
  const info = await container.inspect();
  const ip = info.NetworkSettings.Networks[network]?.IPAddress ?? "";
  expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  return { network, ip };
}

async function project(name: string, network: unknown): Promise<{ repo: FixtureRepo; id: string; cli: (args: string[]) => ReturnType<typeof runCliAsync> }> {
  const probe = await readFile(new URL("./network-probe.mjs", import.meta.url), "utf8");
  const repo = await makeFixtureRepo({
    projectName: `${name}-${runId}`.slice(0, 60),
    devcontainer: { image: BASE_IMAGE },
    config: { agent: { preset: "scripted" }, container: { network } },
    files: { "probe.mjs": probe },
  });
  const id = projectId(repo.projectName, repo.dir);
  const cli = (args: string[]) => runCliAsync(["--cwd", repo.dir, ...args], { env: repo.env });
  cleanups.push(async () => {
    await cli(["down", "--all"]);
    // Whatever down left (it must leave nothing: checked in the tests), so the lane ends clean.
    for (const c of await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } })) await docker.getContainer(c.Id).remove({ force: true });
    for (const c of await docker.listContainers({ all: true, filters: { label: [`${EGRESS_LABEL}=${id}`] } })) await docker.getContainer(c.Id).remove({ force: true });
    for (const n of await docker.listNetworks({ filters: { label: [`${EGRESS_LABEL}=${id}`] } })) await docker.getNetwork(n.Id).remove().catch(ignoreMissing);
    await repo.remove();
  });
  return { repo, id, cli };
}

async function probe(cli: (args: string[]) => ReturnType<typeof runCliAsync>, instance: string, args: string[]): Promise<Probe> {
  const result = await cli(["exec", instance, "--", "node", "probe.mjs", ...args]);
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout) as Probe;
}

/** Several attempts at once, in one exec (each exec costs a CLI start on a busy machine). */
async function probeAll(cli: (args: string[]) => ReturnType<typeof runCliAsync>, instance: string, attempts: readonly (readonly string[])[]): Promise<Probe[]> {
  return (await probe(cli, instance, ["batch", JSON.stringify(attempts)])) as unknown as Probe[];
}

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe("a worker on an allowlist", () => {
  let allowed: { network: string; ip: string };
  let denied: { network: string; ip: string };
  let cli: (args: string[]) => ReturnType<typeof runCliAsync>;
  let id: string;
  let since: string;

  beforeAll(async () => {
    [allowed, denied] = await Promise.all([outsideServer(ALLOWED), outsideServer(DENIED)]);
    ({ cli, id } = await project("net-allow", { allow: [ALLOWED] }));
    since = new Date(Date.now() - 1000).toISOString();
    const warmed = await cli(["warm", "w1"]);
    expect(warmed.stderr).toContain("w1: ready");
    expect(warmed.status).toBe(0);
    // The proxy's way to the world: both servers, whatever the allowlist says.
    const proxy = egressNames(id).proxyContainer;
    await docker.getNetwork(allowed.network).connect({ Container: proxy });
    await docker.getNetwork(denied.network).connect({ Container: proxy });
  }, 240_000);

  it("reaches the allowed host through the proxy, over CONNECT and plain HTTP", async () => {
    const attempts = [
      ["proxy-connect", `${ALLOWED}:${String(PORT)}`],
      ["proxy-get", `http://${ALLOWED}:${String(PORT)}/`],
    ];
    expect(await probeAll(cli, "w1", attempts)).toEqual([
      { status: 200, body: `hello from ${ALLOWED}` },
      { status: 200, body: `hello from ${ALLOWED}` },
    ]);
  });

  it("is refused the denied host by the proxy, by name and by address", async () => {
    const attempts = [
      ["proxy-connect", `${DENIED}:${String(PORT)}`],
      ["proxy-get", `http://${DENIED}:${String(PORT)}/`],
      ["proxy-connect", `${denied.ip}:${String(PORT)}`],
      // Even the allowed server, by its address rather than its listed name.
      ["proxy-get", `http://${allowed.ip}:${String(PORT)}/`],
    ];
    const outcomes = await probeAll(cli, "w1", attempts);
    expect(outcomes.map((outcome) => outcome.status)).toEqual([403, 403, 403, 403]);
    expect(outcomes.map((outcome) => outcome.body)).not.toContainEqual(expect.stringContaining("hello from") as unknown);
  });

  it("has no route out: neither server answers a direct connection, by name or by address, over HTTP or raw TCP", async () => {
    const attempts = [denied, allowed].flatMap((server) =>
      ["tcp", "http"].flatMap((mode) => [
        [mode, server.ip, String(PORT)],
        [mode, server === denied ? DENIED : ALLOWED, String(PORT), server.ip],
      ]),
    );
    const outcomes = await probeAll(cli, "w1", attempts);
    expect(outcomes).toEqual(attempts.map(() => ({ error: expect.stringMatching(UNREACHABLE) as unknown })));
  });

  it("gets nothing over DNS: no outside name resolves through the embedded DNS, so none can be connected to, and no query reaches a resolver outside", async () => {
    // A tunnel's payload rides in the labels of the names it asks for.
    const tunnelled = `exfil-${"c0de".repeat(8)}.${DENIED}`;
    const attempts = [
      ["resolve", DENIED],
      ["resolve", ALLOWED],
      ["resolve", tunnelled],
      // Resolved by the worker, then connected to: it fails at the name, before any packet goes out.
      ["tcp", DENIED, String(PORT)],
      ["http", ALLOWED, String(PORT)],
      // Straight to a resolver outside, by address (each server answers on port 53): no route to it, so nothing answers.
      ["dns-udp", denied.ip, tunnelled],
      ["dns-udp", allowed.ip, tunnelled],
    ];
    const outcomes = await probeAll(cli, "w1", attempts);
    const NOT_FOUND = /^(ENOTFOUND|EAI_AGAIN)$/;
    const NO_ANSWER = /^(E(NETUNREACH|HOSTUNREACH)|no answer)$/;
    expect(outcomes).toEqual([
      ...attempts.slice(0, 5).map(() => ({ error: expect.stringMatching(NOT_FOUND) as unknown })),
      // A datagram to an unreachable address fails at once or goes unanswered (the kernel reports it only when it can).
      { error: expect.stringMatching(NO_ANSWER) as unknown },
      { error: expect.stringMatching(NO_ANSWER) as unknown },
    ]);
    // The proxy is the one name a worker resolves: it is how the allowed host is reached.
    const proxyName = new URL((await cli(["exec", "w1", "--", "printenv", "HTTPS_PROXY"])).stdout.trim()).hostname;
    expect(await probe(cli, "w1", ["resolve", proxyName])).toMatchObject({ addresses: [expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/) as unknown] });
  });

  it("cannot reach the host either, at the workers' network's gateway address", async () => {
    // A service on the host listening on every interface, as many do.
    const accepted: string[] = [];
    const server = net.createServer((socket) => {
      accepted.push(String(socket.remoteAddress));
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const network = await docker.getNetwork(egressNames(id).workersNetwork).inspect();
      const gateway = (network as { IPAM: { Config: { Gateway?: string; Subnet?: string }[] } }).IPAM.Config[0]?.Gateway ?? "";
      expect(gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(await probe(cli, "w1", ["tcp", gateway, String(port)])).toMatchObject({ error: expect.stringMatching(UNREACHABLE) as unknown });
      expect(accepted).toEqual([]);
    } finally {
      server.close();
    }
  });

  it("logs each denial where the host reads it, and the report counts them", async () => {
    const proxy = egressNames(id).proxyContainer;
    const log = stdoutOfFrames(await docker.getContainer(proxy).logs({ stdout: true, stderr: false, follow: false }));
    const denials = countDenials(log, since);
    expect(denials.hosts).toEqual(
      expect.arrayContaining([
        { host: DENIED, count: 2 },
        { host: denied.ip, count: 1 },
        { host: allowed.ip, count: 1 },
      ]),
    );
    expect(denials.count).toBe(4);
    expect(log).not.toContain(`"host":"${ALLOWED}"`);
    // Per worker, as the report and status show them: by the worker's address on the workers' network.
    const counted = await egressDenials(new DockerRuntime(process.env), id, since);
    expect(counted.instances).toEqual([{ instance: "w1", count: 4 }]);
    expect(describeDenials(counted)).toContain("; from w1 (4)");
  });

  it("is gone with down --all: proxy and networks", async () => {
    const down = await cli(["down", "--all"]);
    expect(down.status).toBe(0);
    expect(await docker.listContainers({ all: true, filters: { label: [`${EGRESS_LABEL}=${id}`] } })).toEqual([]);
    expect(await docker.listNetworks({ filters: { label: [`${EGRESS_LABEL}=${id}`] } })).toEqual([]);
    expect(await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } })).toEqual([]);
  });
});

describe('a worker with container.network "none"', () => {
  it("warms, and reaches nothing: no interface but loopback", async () => {
    const server = await outsideServer("none-target.cspace.test");
    const { cli } = await project("net-none", "none");
    const warmed = await cli(["warm", "w1"]);
    expect(warmed.stderr).toContain("w1: ready");
    expect(warmed.status).toBe(0);
    const attempts = [
      ["tcp", server.ip, String(PORT)],
      ["http", "none-target.cspace.test", String(PORT), server.ip],
    ];
    expect(await probeAll(cli, "w1", attempts)).toEqual(attempts.map(() => ({ error: expect.stringMatching(UNREACHABLE) as unknown })));
    const interfaces = await cli(["exec", "w1", "--", "cat", "/proc/net/dev"]);
    const names = interfaces.stdout.split("\n").slice(2).map((line) => line.split(":")[0]?.trim()).filter((name) => name !== undefined && name !== "");
    expect(names).toEqual(["lo"]);
  }, 240_000);
});
