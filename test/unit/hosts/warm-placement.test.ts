import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/core/errors.ts";
import { LABELS } from "../../../src/core/instances/labels.ts";
import { MIRROR_IN_CONTAINER } from "../../../src/core/workspaces/transport.ts";
import { warm } from "../../../src/services/warm/warm.ts";
import type { FakeContainerRuntime } from "../../fakes/container-runtime.ts";
import { fakePorts } from "../../fakes/ports.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";

// warm with workers.hosts: each instance placed on a host with a free slot,
// a remote one made with the workspace transport's volumes and a checkout
// cloned from the host's mirror, never with this machine's folders.

const tempDir = useTempDirs("warm-placement");

async function project(workers: Record<string, unknown>) {
  const dir = await tempDir();
  await mkdir(path.join(dir, ".devcontainer"));
  await writeFile(path.join(dir, ".devcontainer", "devcontainer.json"), JSON.stringify({ image: "cspace-base:bookworm" }));
  await writeFile(path.join(dir, ".cspace.json"), JSON.stringify({ project: { name: "demo" }, workers }));
  return { cwd: dir, env: { CSPACE_RUN_DIR: path.join(dir, "run"), CSPACE_DATA_DIR: path.join(dir, "data"), HOME: dir, PATH: process.env.PATH } };
}

const TWO_HOSTS = { hosts: [{ name: "local", slots: 1 }, { name: "big", docker: "ssh://ci@big.invalid", slots: 2 }] };

function instancesOn(runtime: FakeContainerRuntime | undefined): string[] {
  return [...(runtime?.containers.values() ?? [])].map((c) => c.spec.Labels[LABELS.instance] ?? "").sort();
}

describe("warm places instances on the configured hosts", () => {
  it("fills the local host first, then makes the rest on the remote one through its mirror", async () => {
    const ports = fakePorts({ hosts: ["big"] });
    const result = await warm({ ...(await project(TWO_HOSTS)), instances: ["issue-1", "issue-2", "issue-3"], reset: false, ports: ports.overrides });

    expect(result.instances.map((o) => [o.instance, o.status, o.host])).toEqual([
      ["issue-1", "ready", "local"],
      ["issue-2", "ready", "big"],
      ["issue-3", "ready", "big"],
    ]);
    expect(instancesOn(ports.runtime)).toEqual(["issue-1"]);
    const big = ports.runtimes("big");
    expect(instancesOn(big)).toEqual(["issue-2", "issue-3"]);
    for (const container of big?.containers.values() ?? []) {
      const mounts = container.spec.HostConfig.Mounts;
      // Nothing of this machine's filesystem: the mirror read-only, the instance's own checkout volume.
      expect(mounts.filter((m) => m.Type === "bind")).toEqual([]);
      expect(mounts.find((m) => m.Target === MIRROR_IN_CONTAINER)?.ReadOnly).toBe(true);
      expect(container.spec.Labels[LABELS.host]).toBe("big");
      expect(container.state).toBe("running");
    }
    const transport = ports.transports.get("big");
    // The base went into the mirror once for both workers; each got a checkout on its own branch at that commit.
    expect(transport?.calls.filter((call) => call.startsWith("pushRefs"))).toEqual(["pushRefs main"]);
    expect([...(transport?.checkouts.values() ?? [])].map((c) => [c.instance, c.branch, c.commit]).sort()).toEqual([
      ["issue-2", "issue-2", "a".repeat(40)],
      ["issue-3", "issue-3", "a".repeat(40)],
    ]);
    // Its instance directory is a folder of the container user's alone, not a mount.
    const made = big?.execs.filter((call) => call.command.join(" ").includes("chmod 0700") && call.options.user === "0:0") ?? [];
    expect(made).toHaveLength(2);
    expect(transport?.closed).toBe(true);
  });

  it("gives concurrent warms of one project distinct slots (the coordinator warms its instances at once)", async () => {
    const ports = fakePorts({ hosts: ["big"] });
    const where = await project(TWO_HOSTS);
    const results = await Promise.all(["issue-1", "issue-2", "issue-3"].map((instance) => warm({ ...where, instances: [instance], reset: false, ports: ports.overrides })));
    expect(results.map((r) => r.instances[0]?.host).sort()).toEqual(["big", "big", "local"]);
    expect(instancesOn(ports.runtime)).toHaveLength(1);
  });

  it("keeps an instance on the host its container is on when warmed again", async () => {
    const ports = fakePorts({ hosts: ["big"] });
    const where = await project(TWO_HOSTS);
    await warm({ ...where, instances: ["issue-1", "issue-2"], reset: false, ports: ports.overrides });
    const again = await warm({ ...where, instances: ["issue-2", "issue-1"], reset: false, ports: ports.overrides });

    expect(again.instances.map((o) => [o.instance, o.action, o.host])).toEqual([
      ["issue-2", "validated", "big"],
      ["issue-1", "validated", "local"],
    ]);
    expect(instancesOn(ports.runtimes("big"))).toEqual(["issue-2"]);
  });

  it("spreads over the host with the most free slots when workers.placement is spread", async () => {
    const ports = fakePorts({ hosts: ["big"] });
    const where = await project({ ...TWO_HOSTS, placement: "spread" });
    const result = await warm({ ...where, instances: ["issue-1", "issue-2", "issue-3"], reset: false, ports: ports.overrides });
    // big has 2 free, local 1: big, then a tie (1 and 1) goes to the first in config order.
    expect(result.instances.map((o) => o.host)).toEqual(["big", "local", "big"]);
  });

  it("refuses before making anything when the hosts' slots cannot hold every instance", async () => {
    const ports = fakePorts({ hosts: ["big"] });
    const where = await project(TWO_HOSTS);
    const warming = warm({ ...where, instances: ["issue-1", "issue-2", "issue-3", "issue-4"], reset: false, ports: ports.overrides });
    await expect(warming).rejects.toThrow(UserError);
    await expect(warming).rejects.toThrow(/no host has a free slot for issue-4 \(free slots: local 0, big 0\)/);
    expect(ports.runtime.containers.size).toBe(0);
    expect(ports.runtimes("big")?.containers.size).toBe(0);
  });

  it("places beyond the slots on the least loaded host when asked to (the coordinator warms every issue up front)", async () => {
    const ports = fakePorts({ hosts: ["big"] });
    const where = await project(TWO_HOSTS);
    const result = await warm({ ...where, instances: ["issue-1", "issue-2", "issue-3", "issue-4", "issue-5"], reset: false, beyondSlots: true, ports: ports.overrides });
    // local 1 + big 2 fill the slots; then local 1/1 against big 2/2 are equal (the first listed), then big 2/2 against local 2/1.
    expect(result.instances.map((o) => [o.instance, o.status, o.host])).toEqual([
      ["issue-1", "ready", "local"],
      ["issue-2", "ready", "big"],
      ["issue-3", "ready", "big"],
      ["issue-4", "ready", "local"],
      ["issue-5", "ready", "big"],
    ]);
  });

  it("places nothing on a host that does not answer, and says so when the others are full", async () => {
    // No fake engine for big: opening it fails as an unreachable host's would.
    const ports = fakePorts();
    const where = await project(TWO_HOSTS);
    const first = await warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides });
    expect(first.instances.map((o) => o.host)).toEqual(["local"]);
    await expect(warm({ ...where, instances: ["issue-2"], reset: false, ports: ports.overrides })).rejects.toThrow(/free slots: local 0; not answering: big/);
  });

  it("makes an instance on the host named by onHost, wherever it is now, and refuses a host that is not configured or does not answer", async () => {
    const ports = fakePorts({ hosts: ["big"] });
    const where = await project(TWO_HOSTS);
    await warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides });
    expect(instancesOn(ports.runtime)).toEqual(["issue-1"]);
    // The coordinator's move: made on big though its container is here (the pool then removes this one: pool/move.ts).
    const moved = await warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides, onHost: "big" });
    expect(moved.instances.map((o) => [o.instance, o.status, o.host])).toEqual([["issue-1", "ready", "big"]]);
    expect(instancesOn(ports.runtimes("big"))).toEqual(["issue-1"]);
    await expect(warm({ ...where, instances: ["issue-2"], reset: false, ports: ports.overrides, onHost: "huge" })).rejects.toThrow(/^host huge is not in workers\.hosts$/);
    const silent = fakePorts();
    await expect(warm({ ...(await project(TWO_HOSTS)), instances: ["issue-2"], reset: false, ports: silent.overrides, onHost: "big" })).rejects.toThrow(/^host big does not answer: nothing was made there$/);
  });

  it("names only the hosts that do not answer when none does, with no empty list of free slots", async () => {
    // No fake engine for big, the only host: it cannot be reached.
    const ports = fakePorts();
    const where = await project({ hosts: [{ name: "big", docker: "ssh://ci@big.invalid", slots: 2 }] });
    await expect(warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides })).rejects.toThrow(/^no host has a free slot for issue-1 \(not answering: big\)$/);
  });

  it("makes a worker placed on a Kubernetes host there, through the host's mirror, as on a remote Docker host", async () => {
    const ports = fakePorts({ hosts: ["k8s"] });
    const where = await project({ hosts: [{ name: "k8s", kubernetes: { context: "dev", namespace: "agents" }, slots: 4 }, { name: "local" }] });
    const warnings: string[] = [];
    const result = await warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides, onEvent: (event) => (event.kind === "warning" ? warnings.push(event.message) : undefined) });
    expect(result.instances.map((o) => [o.instance, o.status, o.host])).toEqual([["issue-1", "ready", "k8s"]]);
    // Said, not silently assumed: the cluster pulls the image, and only a NetworkPolicy restricts its network.
    expect(warnings.filter((w) => w.startsWith("host k8s"))).toEqual([
      "host k8s is a Kubernetes cluster: its nodes pull cspace-base:bookworm when each pod starts (nothing checks it before), and its workers are on the cluster's network, which only the namespace's NetworkPolicy restricts",
    ]);
    const [container] = ports.runtimes("k8s")?.containers.values() ?? [];
    expect(container?.spec.HostConfig.Mounts.filter((m) => m.Type === "bind")).toEqual([]);
    // On the cluster's network: no Docker network is asked for (a pod cannot join one), nor made.
    expect(container?.spec.HostConfig.NetworkMode).toBeUndefined();
    expect(ports.runtimes("k8s")?.networks.size).toBe(0);
    expect([...(ports.transports.get("k8s")?.checkouts.values() ?? [])].map((c) => c.instance)).toEqual(["issue-1"]);

    // A pod that ended is never started again (restartPolicy Never): warmed again, it is made anew, in one attempt.
    ports.runtimes("k8s")?.kill(container?.id ?? "");
    const again = await warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides });
    expect(again.instances.map((o) => [o.status, o.action, o.attempts])).toEqual([["ready", "created", 1]]);
    expect(ports.runtimes("k8s")?.calls.filter((call) => call.startsWith("start"))).toHaveLength(2);
  });

  it("refuses, naming the Kubernetes host, a devcontainer whose image must be built, before making anything", async () => {
    const ports = fakePorts({ hosts: ["k8s"] });
    const where = await project({ hosts: [{ name: "k8s", kubernetes: { context: "dev", namespace: "agents" }, slots: 4 }] });
    await writeFile(path.join(where.cwd, ".devcontainer", "Dockerfile"), "FROM cspace-base:bookworm\n");
    await writeFile(path.join(where.cwd, ".devcontainer", "devcontainer.json"), JSON.stringify({ build: { dockerfile: "Dockerfile" } }));
    const warming = warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides });
    await expect(warming).rejects.toThrow(UserError);
    await expect(warming).rejects.toThrow(/host k8s is a Kubernetes cluster, which cannot build the workers' image/);
    expect(ports.runtimes("k8s")?.containers.size).toBe(0);
    expect(ports.runtimes("k8s")?.calls.filter((call) => call.startsWith("build"))).toEqual([]);
  });

  for (const [network, asked] of [[{ allow: ["@npm"] }, "an allowlist"], ["none", '"none"']] as const) {
    it(`refuses, naming the Kubernetes host, container.network ${asked} (no Docker network or egress proxy there), before making anything`, async () => {
      const ports = fakePorts({ hosts: ["k8s"] });
      const where = await project({ hosts: [{ name: "k8s", kubernetes: { context: "dev", namespace: "agents" }, slots: 4 }] });
      await writeFile(path.join(where.cwd, ".cspace.json"), JSON.stringify({ project: { name: "demo" }, container: { network }, workers: { hosts: [{ name: "k8s", kubernetes: { context: "dev", namespace: "agents" }, slots: 4 }] } }));
      const warming = warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides });
      await expect(warming).rejects.toThrow(UserError);
      await expect(warming).rejects.toThrow(`host k8s is a Kubernetes cluster, where container.network ${asked} cannot be enforced`);
      expect(ports.runtimes("k8s")?.containers.size).toBe(0);
      expect(ports.runtimes("k8s")?.networks.size).toBe(0);
    });
  }

  // `cspace up` of an instance placed on a remote host starts its agent there: test/docker/up-remote.test.ts, against a real engine over SSH.
});
