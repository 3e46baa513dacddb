import { describe, expect, it } from "vitest";
import type { ContainerCreateSpec } from "../../core/devcontainer/create-options.ts";
import { FakeContainerRuntime } from "../../../test/fakes/container-runtime.ts";
import { LABELS } from "../../core/instances/labels.ts";
import { RoutedRuntime } from "./routed-runtime.ts";

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

function twoHosts(): { local: FakeContainerRuntime; big: FakeContainerRuntime; routed: RoutedRuntime; opened: string[] } {
  const local = new FakeContainerRuntime();
  const big = new FakeContainerRuntime();
  const opened: string[] = [];
  const routed = new RoutedRuntime([
    { name: "local", open: () => (opened.push("local"), Promise.resolve(local)) },
    { name: "big", open: () => (opened.push("big"), Promise.resolve(big)) },
  ]);
  return { local, big, routed, opened };
}

describe("RoutedRuntime: one runtime over several hosts", () => {
  it("makes a container on the host its label names, and the first host otherwise", async () => {
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
    const routed = new RoutedRuntime([
      { name: "local", open: () => Promise.resolve(local) },
      { name: "gone", open: () => Promise.reject(new Error("ssh: connect timed out")) },
    ]);
    await local.create(spec("w-1"));
    expect((await routed.inspect("w-1"))?.name).toBe("w-1");
    await expect(routed.inspect("w-9")).rejects.toThrow(/host gone did not answer/);
  });

  it("opens a host that failed again on the next call", async () => {
    const big = new FakeContainerRuntime();
    let refusals = 1;
    const routed = new RoutedRuntime([
      { name: "big", open: () => (refusals-- > 0 ? Promise.reject(new Error("refused")) : Promise.resolve(big)) },
    ]);
    await expect(routed.ping()).rejects.toThrow(/refused/);
    await routed.ping();
  });

  it("refuses a host that is not configured, naming the configured ones", async () => {
    const { routed } = twoHosts();
    await expect(routed.create(spec("w-3", "nowhere"))).rejects.toThrow(/no host named nowhere is configured/);
  });
});
