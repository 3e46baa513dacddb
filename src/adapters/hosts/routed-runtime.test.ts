import { describe, expect, it } from "vitest";
import type { ContainerCreateSpec } from "../../core/devcontainer/create-options.ts";
import { FakeContainerRuntime } from "../../../test/fakes/container-runtime.ts";
import type { WorkerHost } from "../../core/hosts/hosts.ts";
import type { ContainerRuntime } from "../../core/instances/ports.ts";
import { LABELS } from "../../core/instances/labels.ts";
import { RoutedRuntime, type RoutedHosts } from "./routed-runtime.ts";

const HOST_LABEL = LABELS.host;

function spec(name: string, host?: string): ContainerCreateSpec {
  return {
    name,
    Image: "cspace-base:bookworm",
    Env: [],
    Labels: { "dev.cspace.project": "p1", ...(host === undefined ? {} : { [HOST_LABEL]: host }) },
    WorkingDir: "/workspaces/x",
    HostConfig: { Mounts: [] },
  };
}

/** Hosts as ports.hosts() gives them: each engine by name (here a function, to count or refuse the asking); the first is the local engine unless told. */
function hosts(engines: Readonly<Record<string, () => Promise<ContainerRuntime>>>, localName: string | null = Object.keys(engines)[0] ?? null): RoutedHosts {
  const list: WorkerHost[] = Object.keys(engines).map((name) => ({
    name,
    kind: name === localName ? "local" : "ssh",
    slots: 4,
    settings: name === localName ? { name } : { name, docker: `ssh://root@${name}.invalid` },
  }));
  return {
    hosts: list,
    get: (name) => {
      const open = engines[name];
      return open === undefined ? Promise.reject(new Error(`no host named "${name}" in workers.hosts`)) : open();
    },
  };
}

function twoHosts(): { local: FakeContainerRuntime; big: FakeContainerRuntime; routed: RoutedRuntime; opened: string[] } {
  const local = new FakeContainerRuntime();
  const big = new FakeContainerRuntime();
  const opened: string[] = [];
  const routed = new RoutedRuntime(
    hosts({
      local: () => (opened.push("local"), Promise.resolve(local)),
      big: () => (opened.push("big"), Promise.resolve(big)),
    }),
  );
  return { local, big, routed, opened };
}

describe("RoutedRuntime: one runtime over several hosts", () => {
  it("makes a container on the host its label names, and on the local engine otherwise", async () => {
    const { local, big, routed } = twoHosts();
    await routed.create(spec("w-12", "big"));
    await routed.create(spec("w-13"));
    expect([...big.containers.values()].map((c) => c.spec.name)).toEqual(["w-12"]);
    expect([...local.containers.values()].map((c) => c.spec.name)).toEqual(["w-13"]);
  });

  it("reaches a container it did not make on whichever host has it: exec, logs, remove", async () => {
    const { local, big, routed } = twoHosts();
    const id = await big.create(spec("w-12", "big"));
    await big.start(id);
    const outcome = await routed.exec("w-12", ["node", "--version"]);
    expect(outcome.stdout).toBe("v18.20.4\n");
    expect(big.execs.map((call) => call.command.join(" "))).toEqual(["node --version"]);
    expect(local.execs).toEqual([]);
    expect(await routed.remove("w-12")).toBe(true);
    expect(await routed.remove("w-12")).toBe(false);
  });

  it("lists every host's containers, or only the named host's without opening the others", async () => {
    const { local, big, routed, opened } = twoHosts();
    await local.create(spec("w-1"));
    await big.create(spec("w-2", "big"));
    expect((await routed.list({ [HOST_LABEL]: "big" })).map((c) => c.name)).toEqual(["w-2"]);
    expect(opened).toEqual(["big"]);
    expect((await routed.list({ "dev.cspace.project": "p1" })).map((c) => c.name).sort()).toEqual(["w-1", "w-2"]);
  });

  it("says which host did not answer instead of listing fewer containers", async () => {
    const { local, big, routed } = twoHosts();
    await big.create(spec("w-2", "big"));
    local.list = () => Promise.reject(new Error("connection refused"));
    await expect(routed.list({ "dev.cspace.project": "p1" })).rejects.toThrow(/host local \(connection refused\) did not answer/);
  });

  it("finds a container on an answering host although another host is down, and refuses to say it is gone when a host is silent", async () => {
    const local = new FakeContainerRuntime();
    const routed = new RoutedRuntime(hosts({ local: () => Promise.resolve(local), gone: () => Promise.reject(new Error("host gone: ssh: connect timed out")) }));
    await local.create(spec("w-1"));
    expect((await routed.inspect("w-1"))?.name).toBe("w-1");
    await expect(routed.inspect("w-9")).rejects.toThrow("cannot tell where container w-9 is: host gone (ssh: connect timed out) did not answer");
  });

  it("names a silent host once in its message, though the hosts' own errors start with its name", async () => {
    const local = new FakeContainerRuntime();
    const routed = new RoutedRuntime(hosts({ local: () => Promise.resolve(local), gone: () => Promise.reject(new Error("host gone: connection refused")) }));
    await expect(routed.list({ "dev.cspace.project": "p1" })).rejects.toThrow("cannot list containers: host gone (connection refused) did not answer");
  });

  it("asks the local engine for images and networks wherever it is in the list, and the first host when none is local", async () => {
    const local = new FakeContainerRuntime();
    const big = new FakeContainerRuntime();
    big.images.clear();
    const bigFirst = new RoutedRuntime(hosts({ big: () => Promise.resolve(big), local: () => Promise.resolve(local) }, "local"));
    expect(await bigFirst.hasImage("cspace-base:bookworm")).toBe(true);
    await bigFirst.create(spec("w-1"));
    expect([...local.containers.values()].map((c) => c.spec.name)).toEqual(["w-1"]);
    const remoteOnly = new RoutedRuntime(hosts({ big: () => Promise.resolve(big) }, null));
    expect(await remoteOnly.hasImage("cspace-base:bookworm")).toBe(false);
  });

  it("lists and removes volumes on every host, and names a host that does not answer", async () => {
    const { local, big, routed } = twoHosts();
    const labels = { "dev.cspace.mirror-of": "p1" };
    await big.create({ ...spec("keeper", "big"), HostConfig: { Mounts: [{ Type: "volume", Source: "cspace-p1-mirror", Target: "/mirror", ReadOnly: false, VolumeOptions: { Labels: labels } }] } });
    await local.create({ ...spec("w-1"), HostConfig: { Mounts: [{ Type: "volume", Source: "unlabelled", Target: "/x", ReadOnly: false }] } });
    expect((await routed.listVolumes(labels)).map((v) => v.name)).toEqual(["cspace-p1-mirror"]);
    expect(await routed.removeVolume("cspace-p1-mirror")).toBe(true);
    expect(await routed.removeVolume("cspace-p1-mirror")).toBe(false);
    big.listVolumes = () => Promise.reject(new Error("host big: connection refused"));
    await expect(routed.listVolumes(labels)).rejects.toThrow("cannot list volumes: host big (connection refused) did not answer");
  });

  it("refuses a host that is not configured, naming the configured ones", async () => {
    const { routed } = twoHosts();
    await expect(routed.create(spec("w-3", "nowhere"))).rejects.toThrow(/no host named "nowhere"/);
  });
});
