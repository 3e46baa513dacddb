import { mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { DockerRuntime } from "../../src/adapters/docker/containers.ts";
import { workerBundleFiles } from "../../src/adapters/worker-bundle.ts";
import { LABELS } from "../../src/core/instances/labels.ts";
import { checkoutVolumeName, mirrorVolumeName } from "../../src/core/workspaces/transport.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { runCli } from "../support/cli.ts";
import { BASE_IMAGE, testLabels } from "../support/docker.ts";
import { startRemoteEngine, type RemoteEngine } from "../support/remote-engines.ts";
import { makeProject, type TempProject } from "../support/temp-project.ts";

// An ssh:// host in workers.hosts, through the built binary: a second Docker
// engine in a network namespace of this test's own, reached over its sshd
// (test/support/remote-engines.ts). doctor and list go over one SSH
// connection to it; nothing of this host is on the local engine.

let remote: RemoteEngine;
let project: TempProject;
let scratch: string;
let id: string;

/** The project's hosts: the local engine and the remote one, with its key and known_hosts (or the one given). */
async function writeHosts(knownHosts = remote.knownHostsFile): Promise<void> {
  const settings = { name: "big", docker: remote.endpoint, slots: 4, ssh: { identityFile: remote.identityFile, knownHosts, socket: remote.socketPath } };
  await writeFile(path.join(project.dir, ".cspace.local.json"), `${JSON.stringify({ workers: { hosts: [{ name: "local" }, settings] } })}\n`);
}

beforeAll(async () => {
  remote = await startRemoteEngine("hosts");
  project = await makeProject({ config: { project: { name: "hosts-ssh" }, container: { devcontainer: "worker.json" } } });
  await writeFile(path.join(project.dir, "worker.json"), `${JSON.stringify({ image: BASE_IMAGE })}\n`);
  id = projectId("hosts-ssh", await realpath(project.dir));
  await writeHosts();
  scratch = await mkdtemp(path.join(os.tmpdir(), "cspace-hosts-ssh-"));
  // A worker on the remote engine, labelled as warm labels them (made through its own socket: this is the test's setup, not what is tested).
  const there = new Docker({ socketPath: remote.socketPath });
  const container = await there.createContainer({
    name: `cspace-${id}-w-big`,
    Image: BASE_IMAGE,
    Entrypoint: ["sleep", "infinity"],
    Labels: { ...testLabels(inject("cspaceTestRun"), id), [LABELS.instance]: "w-big", [LABELS.base]: "main", [LABELS.host]: "big" },
  });
  await container.start();
  // What a remote worker has that this one needs for exec and logs: the worker bundle, its workspace folder, an events file.
  const runtime = new DockerRuntime({ DOCKER_HOST: `unix://${remote.socketPath}` });
  await runtime.copyIn(container.id, await workerBundleFiles());
  const event = JSON.stringify({ ts: "2026-01-01T00:00:00.000Z", source: "agent", type: "text", text: "hello from big" });
  const made = await runtime.exec(container.id, ["sh", "-c", `mkdir -p /run/cspace "/workspaces/${path.basename(project.dir)}" && printf '%s\\n' '${event}' > /run/cspace/events.ndjson`]);
  expect(made.stderr).toBe("");
}, 300_000);

afterAll(async () => {
  // Each was made in beforeAll; one that failed midway leaves the later ones unset.
  const made = { remote, project, scratch } as { remote?: RemoteEngine; project?: TempProject; scratch?: string };
  await made.remote?.stop();
  await made.project?.remove();
  if (made.scratch !== undefined) await rm(made.scratch, { recursive: true, force: true });
});

const cli = (args: readonly string[]) => runCli([...args, "--cwd", project.dir], { env: { CSPACE_RUN_DIR: path.join(scratch, "run"), CSPACE_DATA_DIR: path.join(scratch, "data") } });

describe("an ssh:// host against a real remote engine", () => {
  it("list shows the worker running on the remote host, reached over SSH", async () => {
    const before = await remote.sshConnectionsAccepted();
    const json = cli(["list", "--json"]);
    expect(json.status, json.stderr).toBe(0);
    const listing = JSON.parse(json.stdout) as { instances: { instance: string; host: string; state: string }[]; unreachableHosts: unknown[] };
    expect(listing.instances.filter((i) => i.host === "big").map((i) => [i.instance, i.state])).toEqual([["w-big", "running"]]);
    expect(listing.unreachableHosts).toEqual([]);
    expect(await remote.sshConnectionsAccepted()).toBe(before + 1);
  });

  it("doctor passes the remote host's check with its engine's version and slots", () => {
    const result = cli(["doctor", "--json"]);
    const report = JSON.parse(result.stdout) as { checks: { id: string; title: string; status: string; detail: string }[] };
    const big = report.checks.find((c) => c.id === "host" && c.title === "Host big");
    expect(big?.status, big?.detail).toBe("pass");
    expect(big?.detail).toMatch(/Docker 2\d\.\d+/);
    expect(big?.detail).toContain("4 slots");
  });

  it("doctor fails the remote host's check naming it and the fingerprint when its key is not known", async () => {
    await writeFile(path.join(scratch, "empty_known_hosts"), "");
    const local = JSON.parse(await readFile(path.join(project.dir, ".cspace.local.json"), "utf8")) as { workers: { hosts: { ssh?: Record<string, string> }[] } };
    const big = local.workers.hosts[1];
    if (big?.ssh !== undefined) big.ssh.knownHosts = path.join(scratch, "empty_known_hosts");
    await writeFile(path.join(project.dir, ".cspace.local.json"), `${JSON.stringify(local)}\n`);
    const result = cli(["doctor", "--json"]);
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stdout) as { checks: { id: string; title: string; status: string; detail: string }[] };
    const check = report.checks.find((c) => c.id === "host" && c.title === "Host big");
    expect(check?.status).toBe("fail");
    expect(check?.detail).toMatch(/^host big: /);
    expect(check?.detail).toMatch(/SHA256:/);
  });
});

/** The built binary with --cwd first: `exec` passes whatever follows its `--` to the container. */
const cspace = (args: readonly string[]) => runCli(["--cwd", project.dir, ...args], { env: { CSPACE_RUN_DIR: path.join(scratch, "run"), CSPACE_DATA_DIR: path.join(scratch, "data") } });

/** Runs a command of the built binary and says how many SSH logins it made. */
async function logins<T>(command: () => T): Promise<{ result: T; logins: number }> {
  const before = await remote.sshConnectionsAccepted();
  const result = command();
  return { result, logins: (await remote.sshConnectionsAccepted()) - before };
}

describe("commands reach a worker on the ssh:// host, one SSH login each", () => {
  const there = (): Docker => new Docker({ socketPath: remote.socketPath });

  beforeAll(async () => {
    // The test above left an empty known_hosts behind.
    await writeHosts();
  });

  it("exec runs the command in the remote worker and exits with its code", async () => {
    const { result, logins: count } = await logins(() => cspace(["exec", "w-big", "--", "sh", "-c", "cat /run/cspace/events.ndjson; exit 7"]));
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("hello from big");
    expect(result.status).toBe(7);
    expect(count).toBe(1);
  });

  it("logs prints the remote worker's events, read from its container", async () => {
    const { result, logins: count } = await logins(() => cspace(["logs", "w-big", "--json"]));
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split("\n").map((line) => (JSON.parse(line) as { text: string }).text)).toEqual(["hello from big"]);
    expect(count).toBe(1);
  });

  it("down removes the remote worker and its checkout volume on its host", async () => {
    await there().createVolume({ Name: checkoutVolumeName(id, "w-big"), Labels: testLabels(inject("cspaceTestRun")) });
    const { result, logins: count } = await logins(() => cspace(["down", "w-big", "--json"]));
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { instances: { instance: string; removed: { container: boolean; workspace: boolean } }[]; unreachableHosts: unknown[] };
    expect(report.instances).toMatchObject([{ instance: "w-big", removed: { container: true, workspace: true } }]);
    expect(report.unreachableHosts).toEqual([]);
    expect(await there().listContainers({ all: true, filters: { label: [`${LABELS.instance}=w-big`] } })).toEqual([]);
    expect((await there().listVolumes({ filters: { name: [checkoutVolumeName(id, "w-big")] } })).Volumes as unknown[] | null).toSatisfy((found: unknown[] | null) => found === null || found.length === 0);
    expect(count).toBe(1);
  });

  it("down --all removes the remote host's workers, its mirror keeper and the mirror's volume", async () => {
    const run = inject("cspaceTestRun");
    const worker = await there().createContainer({ name: `cspace-${id}-w-two`, Image: BASE_IMAGE, Entrypoint: ["sleep", "infinity"], Labels: { ...testLabels(run, id), [LABELS.instance]: "w-two", [LABELS.host]: "big" } });
    await worker.start();
    const keeperLabels = { ...testLabels(run), "dev.cspace.mirror-of": id, [LABELS.host]: "big" };
    const keeper = await there().createContainer({
      name: `cspace-${id}-keeper-test`,
      Image: BASE_IMAGE,
      Entrypoint: ["sleep", "infinity"],
      Labels: keeperLabels,
      HostConfig: { Mounts: [{ Type: "volume", Source: mirrorVolumeName(id), Target: "/mirror", VolumeOptions: { NoCopy: false, Labels: keeperLabels, DriverConfig: { Name: "local", Options: {} } } }] },
    });
    await keeper.start();
    const { result, logins: count } = await logins(() => cspace(["down", "--all"]));
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain("w-two: removed container");
    expect(result.stdout).toContain(`host big: removed cspace-${id}-keeper-test, volume ${mirrorVolumeName(id)}`);
    expect(await there().listContainers({ all: true, filters: { label: [`${LABELS.host}=big`] } })).toEqual([]);
    expect((await there().listVolumes({ filters: { name: [mirrorVolumeName(id)] } })).Volumes as unknown[] | null).toSatisfy((found: unknown[] | null) => found === null || found.length === 0);
    expect(count).toBe(1);
  });

  it("with sshd killed, exec fails naming the host, and down --all says what it could not remove there", async () => {
    const worker = await there().createContainer({ name: `cspace-${id}-w-three`, Image: BASE_IMAGE, Entrypoint: ["sleep", "infinity"], Labels: { ...testLabels(inject("cspaceTestRun"), id), [LABELS.instance]: "w-three", [LABELS.host]: "big" } });
    await worker.start();
    await remote.killSshd();
    try {
      const exec = cspace(["exec", "w-three", "--", "true"]);
      expect(exec.status).toBe(3);
      expect(exec.stderr).toMatch(/host big/);
      const down = cspace(["down", "--all"]);
      expect(down.status).toBe(1);
      expect(down.stdout).toMatch(/^host big did not answer, so its workers, egress proxy, mirror keepers and volumes there were not removed: /m);
      expect(down.stderr).toContain("Run cspace down --all again once big answers");
    } finally {
      await remote.startSshd();
    }
    // Nothing was removed there: the next down --all, with the host back, removes it.
    expect((await there().listContainers({ all: true, filters: { label: [`${LABELS.instance}=w-three`] } })).length).toBe(1);
    const again = cspace(["down", "--all"]);
    expect(again.status, again.stderr).toBe(0);
    expect(await there().listContainers({ all: true, filters: { label: [`${LABELS.instance}=w-three`] } })).toEqual([]);
  });
});
