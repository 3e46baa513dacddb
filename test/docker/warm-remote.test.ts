import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { LABELS } from "../../src/core/instances/labels.ts";
import { runCli, type CliResult } from "../support/cli.ts";
import { testDocker } from "../support/docker.ts";
import { containersOf } from "../support/fixture-instances.ts";
import { makeFixtureRepo, nonRootDockerfile, type FixtureRepo } from "../support/fixture-repo.ts";
import { startRemoteEngine, type RemoteEngine } from "../support/remote-engines.ts";

// `cspace warm` with a second Docker engine in workers.hosts, reached over
// SSH (test/support/remote-engines.ts: its own data root, in a network
// namespace of this test's making, behind sshd): the local host's one slot
// takes the first instance, the remote host the second. The remote worker
// shares no folder with this machine: its image is built there, its
// checkout is cloned inside it from the host's read-only mirror, and its
// instance directory is the container user's own folder. The test looks at
// the remote engine through its socket only to check; cspace goes over SSH.

const runId = inject("cspaceTestRun");
const docker = testDocker();
let remote: RemoteEngine;
let there: Docker;
let repo: FixtureRepo;

beforeAll(async () => {
  remote = await startRemoteEngine("warmr");
  there = new Docker({ socketPath: remote.socketPath });
  const big = { name: "big", docker: remote.endpoint, slots: 2, ssh: { identityFile: remote.identityFile, knownHosts: remote.knownHostsFile, socket: remote.socketPath } };
  repo = await makeFixtureRepo({
    projectName: `warm-remote-${runId}`.slice(0, 60),
    devcontainer: { build: { dockerfile: "../image/Dockerfile", context: "../image" }, remoteUser: "dev", postCreateCommand: "echo made > /tmp/post-create" },
    files: { "image/Dockerfile": nonRootDockerfile(runId) },
    config: { workers: { hosts: [{ name: "local", slots: 1 }, big] } },
  });
}, 300_000);

afterAll(async () => {
  const made = { remote, repo } as { remote?: RemoteEngine; repo?: FixtureRepo };
  if (made.repo !== undefined) {
    const left = await containersOf(docker, made.repo);
    await Promise.all(left.map((id) => docker.getContainer(id).remove({ force: true })));
    await made.repo.remove();
  }
  // Everything on the remote engine (workers, keeper, volumes, images) goes with it.
  await made.remote?.stop();
});

const cli = (args: readonly string[]): CliResult => runCli(["--cwd", repo.dir, ...args], { env: repo.env });

interface Outcome {
  instance: string;
  status: string;
  action: string | null;
  host: string;
  commit: string | null;
  error: { message: string } | null;
}

async function inRemote(name: string, script: string, user = "dev"): Promise<string> {
  const [found] = await there.listContainers({ all: true, filters: { label: [`${LABELS.instance}=${name}`] } });
  if (found === undefined) throw new Error(`no container for ${name} on the remote engine`);
  const exec = await there.getContainer(found.Id).exec({ Cmd: ["sh", "-c", script], User: user, AttachStdout: true, AttachStderr: true, WorkingDir: "/workspaces" });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  const out = new (await import("node:stream")).PassThrough();
  there.modem.demuxStream(stream, out, out);
  out.on("data", (chunk: Buffer) => chunks.push(chunk));
  await new Promise<void>((resolve) => stream.on("end", resolve));
  return Buffer.concat(chunks).toString("utf8").trim();
}

describe("warm on a remote Docker host over SSH", () => {
  it("places the second instance on the remote host and makes it ready there without this machine's folders", async () => {
    const before = await remote.sshConnectionsAccepted();
    const result = cli(["warm", "w1", "w2", "--json"]);
    expect(result.status, result.stderr).toBe(0);
    const outcomes = (JSON.parse(result.stdout) as { instances: Outcome[] }).instances;
    expect(outcomes.map((o) => [o.instance, o.status, o.action, o.host, o.commit])).toEqual([
      ["w1", "ready", "created", "local", repo.head],
      ["w2", "ready", "created", "big", repo.head],
    ]);
    // One SSH login served the whole warm: image build, mirror push, create, checkout, lifecycle, validation.
    expect(await remote.sshConnectionsAccepted()).toBe(before + 1);

    const workers = await there.listContainers({ all: true, filters: { label: [LABELS.project] } });
    expect(workers.map((c) => [c.Labels[LABELS.instance], c.Labels[LABELS.host], c.State])).toEqual([["w2", "big", "running"]]);
    const details = await there.getContainer(workers[0]?.Id ?? "").inspect();
    expect(details.Mounts.filter((m) => m.Type === "bind")).toEqual([]);
    // The mirror keeper is gone with the warm; its volume (the mirror) stays for the next worker.
    const volumes = (await there.listVolumes()).Volumes.map((v) => v.Name);
    expect(volumes.some((v) => v.endsWith("-mirror"))).toBe(true);

    const inside = await inRemote("w2", 'cd "$(git rev-parse --show-toplevel 2>/dev/null || echo /workspaces/repo)" && git rev-parse HEAD && git branch --show-current && cat README.md && stat -c "%a %u" /run/cspace && cat /tmp/post-create && { touch "$(git config --get remote.origin.url)/x" 2>/dev/null && echo mirror-writable || echo mirror-read-only; }');
    expect(inside.split("\n")).toEqual([repo.head, "w2", "# fixture", "700 1000", "made", "mirror-read-only"]);
  });

  it("list shows each worker on its host, and a second warm validates both where they are", () => {
    const listed = cli(["list", "--json"]);
    expect(listed.status, listed.stderr).toBe(0);
    const instances = (JSON.parse(listed.stdout) as { instances: { instance: string; host: string; state: string }[] }).instances;
    expect(instances.map((i) => [i.instance, i.host, i.state]).sort()).toEqual([
      ["w1", "local", "running"],
      ["w2", "big", "running"],
    ]);

    const again = cli(["warm", "w2", "w1", "--json"]);
    expect(again.status, again.stderr).toBe(0);
    const outcomes = (JSON.parse(again.stdout) as { instances: Outcome[] }).instances;
    expect(outcomes.map((o) => [o.instance, o.action, o.host])).toEqual([
      ["w2", "validated", "big"],
      ["w1", "validated", "local"],
    ]);
  });

  it("gives a third instance the remote host's free slot and refuses a fourth, making nothing for it", () => {
    // local 1/1, big 1/2: w3 goes to big; w4 finds no slot and nothing is made for it.
    const third = cli(["warm", "w3", "--json"]);
    expect(third.status, third.stderr).toBe(0);
    expect((JSON.parse(third.stdout) as { instances: Outcome[] }).instances.map((o) => o.host)).toEqual(["big"]);
    const fourth = cli(["warm", "w4"]);
    expect(fourth.status).toBe(2);
    expect(fourth.stderr).toMatch(/no host has a free slot for w4 \(free slots: local 0, big 0\)/);
  });
});
