import { mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { LABELS } from "../../src/core/instances/labels.ts";
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

beforeAll(async () => {
  remote = await startRemoteEngine("hosts");
  project = await makeProject({ config: { project: { name: "hosts-ssh" }, container: { devcontainer: "worker.json" } } });
  await writeFile(path.join(project.dir, "worker.json"), `${JSON.stringify({ image: BASE_IMAGE })}\n`);
  const id = projectId("hosts-ssh", await realpath(project.dir));
  const settings = { name: "big", docker: remote.endpoint, slots: 4, ssh: { identityFile: remote.identityFile, knownHosts: remote.knownHostsFile, socket: remote.socketPath } };
  await writeFile(path.join(project.dir, ".cspace.local.json"), `${JSON.stringify({ workers: { hosts: [{ name: "local" }, settings] } })}\n`);
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
