import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { EGRESS_POLICY_LABEL, egressNames, PROXY_URL } from "../../../src/core/network/egress.ts";
import { downInstances } from "../../../src/services/instances/down.ts";
import { warm } from "../../../src/services/warm/warm.ts";
import { fakePorts } from "../../fakes/ports.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";

const tempDir = useTempDirs("warm-network-unit");

async function project(network: unknown) {
  const dir = await tempDir();
  await mkdir(path.join(dir, ".devcontainer"));
  await writeFile(path.join(dir, ".devcontainer", "devcontainer.json"), JSON.stringify({ image: "cspace-base:bookworm" }));
  const write = (value: unknown) => writeFile(path.join(dir, ".cspace.json"), JSON.stringify({ project: { name: "demo" }, agent: { preset: "claude" }, container: { network: value } }));
  await write(network);
  const env = { CSPACE_RUN_DIR: path.join(dir, "run"), HOME: dir, PATH: process.env.PATH };
  return { where: { cwd: dir, env }, write };
}

describe("warm with container.network", () => {
  it("puts allowlisted workers on the internal network with the proxy's variables, beside one proxy it reuses", async () => {
    const ports = fakePorts();
    const { where } = await project({ allow: ["@agent", "@npm"] });
    const result = await warm({ ...where, instances: ["issue-1", "issue-2"], reset: false, ports: ports.overrides });
    expect(result.instances.map((i) => i.status)).toEqual(["ready", "ready"]);
    const names = egressNames(result.projectId);
    expect(ports.runtime.networks.get(names.workersNetwork)?.spec).toMatchObject({ Internal: true, Options: { "com.docker.network.bridge.inhibit_ipv4": "true" } });
    expect(ports.runtime.networks.get(names.outsideNetwork)?.spec.Internal).toBe(false);
    const containers = [...ports.runtime.containers.values()];
    const proxy = containers.find((c) => c.spec.name === names.proxyContainer);
    expect(proxy?.spec.Env).toEqual([`CSPACE_EGRESS_ALLOW=${JSON.stringify(["api.anthropic.com", "statsig.anthropic.com", "sentry.io", "registry.npmjs.org"])}`]);
    expect(proxy?.spec.User).toBe("65534:65534");
    const workers = containers.filter((c) => c.spec.Labels["dev.cspace.instance"] !== undefined);
    expect(workers.map((w) => w.spec.HostConfig.NetworkMode)).toEqual([names.workersNetwork, names.workersNetwork]);
    for (const w of workers) expect(w.spec.Env).toContain(`HTTPS_PROXY=${PROXY_URL}`);

    await warm({ ...where, instances: ["issue-3"], reset: false, ports: ports.overrides });
    expect([...ports.runtime.containers.values()].filter((c) => c.spec.name === names.proxyContainer).map((c) => c.id)).toEqual([proxy?.id]);
  });

  it("replaces the proxy when the allowlist changes, and keeps the workers", async () => {
    const ports = fakePorts();
    const { where, write } = await project({ allow: ["a.example"] });
    const first = await warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides });
    const proxyOf = () => [...ports.runtime.containers.values()].find((c) => c.spec.name === egressNames(first.projectId).proxyContainer);
    const before = proxyOf()?.spec.Labels[EGRESS_POLICY_LABEL];
    await write({ allow: ["a.example", "b.example"] });
    const second = await warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides });
    expect(second.instances[0]?.action).toBe("validated");
    expect(proxyOf()?.spec.Labels[EGRESS_POLICY_LABEL]).not.toBe(before);
    expect(proxyOf()?.spec.Env).toEqual([`CSPACE_EGRESS_ALLOW=${JSON.stringify(["a.example", "b.example"])}`]);
  });

  it("refuses to keep a worker made on the open network once an allowlist is set", async () => {
    const ports = fakePorts();
    const { where, write } = await project("open");
    await warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides });
    await write({ allow: ["@agent"] });
    await expect(warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides })).rejects.toThrow(/made on network "open", but container.network now asks for "cspace-demo-/);
    const reset = await warm({ ...where, instances: ["issue-1"], reset: true, ports: ports.overrides });
    expect(reset.instances[0]?.status).toBe("ready");
  });

  it('gives workers no network for "none", and makes no proxy', async () => {
    const ports = fakePorts();
    const { where } = await project("none");
    await warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides });
    expect([...ports.runtime.containers.values()].map((c) => c.spec.HostConfig.NetworkMode)).toEqual(["none"]);
    expect(ports.runtime.networks.size).toBe(0);
  });

  it("down --all removes the proxy and both networks", async () => {
    const ports = fakePorts();
    const { where } = await project({ allow: ["a.example"] });
    await warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides });
    await downInstances({ ...where, instances: [], all: true, ports: ports.overrides });
    expect(ports.runtime.containers.size).toBe(0);
    expect(ports.runtime.networks.size).toBe(0);
  });
});
