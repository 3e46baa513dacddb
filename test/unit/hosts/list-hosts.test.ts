import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LABELS } from "../../../src/core/instances/labels.ts";
import { listProject } from "../../../src/services/instances/list.ts";
import { openProject } from "../../../src/services/project.ts";
import type { FakeContainerRuntime } from "../../fakes/container-runtime.ts";
import { fakePorts } from "../../fakes/ports.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";

const tempDir = useTempDirs("list-hosts");

async function project(workers: unknown) {
  const dir = await tempDir();
  await writeFile(path.join(dir, ".cspace.json"), JSON.stringify({ project: { name: "demo" }, workers }));
  await mkdir(path.join(dir, "run"));
  return { cwd: dir, env: { CSPACE_RUN_DIR: path.join(dir, "run"), HOME: dir, PATH: process.env.PATH } };
}

async function worker(runtime: FakeContainerRuntime | undefined, projectId: string, instance: string, host?: string): Promise<void> {
  if (runtime === undefined) throw new Error("no such fake engine");
  const labels: Record<string, string> = { [LABELS.project]: projectId, [LABELS.instance]: instance, [LABELS.base]: "main" };
  if (host !== undefined) labels[LABELS.host] = host;
  await runtime.start(await runtime.create({ name: `cspace-${projectId}-${instance}`, Image: "cspace-base:bookworm", Labels: labels, HostConfig: { Mounts: [] } } as never));
}

describe("list on several hosts (fake engines)", () => {
  it("lists every host's workers with their host, and names a host that does not answer instead of failing", async () => {
    const where = await project({ hosts: [{ name: "local" }, { name: "big", docker: "tcp://big.invalid:2376", slots: 3 }, { name: "gone", docker: "tcp://gone.invalid:2376" }] });
    const ports = fakePorts({ hosts: ["big"] });
    const { projectId } = await openProject({ ...where, ports: ports.overrides });
    await worker(ports.runtime, projectId, "issue-1", "local");
    await worker(ports.runtimes("big"), projectId, "issue-2", "big");
    // Made before hosts existed: no label, on the local engine.
    await worker(ports.runtime, projectId, "old");
    const listing = await listProject({ ...where, ports: ports.overrides, probeTimeoutMs: 0 });
    expect(listing.instances.map((i) => [i.instance, i.host, i.state])).toEqual([
      ["issue-1", "local", "running"],
      ["issue-2", "big", "running"],
      ["old", "local", "running"],
    ]);
    expect(listing.unreachableHosts).toEqual([{ host: "gone", error: "no engine answers for host gone (no fake runtime was given for it)" }]);
    expect(listing.severalHosts).toBe(true);
  });

  it("lists a container once when two hosts are one engine, under the host its label names", async () => {
    const where = await project({ hosts: [{ name: "local" }, { name: "other", docker: "unix:///var/run/docker.sock" }] });
    const ports = fakePorts();
    const same = ports.runtime;
    const overrides = { ...ports.overrides, hostRuntime: () => ({ runtime: same, close: () => Promise.resolve() }) };
    const { projectId } = await openProject({ ...where, ports: overrides });
    await worker(same, projectId, "issue-1", "other");
    await worker(same, projectId, "issue-2", "local");
    const listing = await listProject({ ...where, ports: overrides, probeTimeoutMs: 0 });
    expect(listing.instances.map((i) => [i.instance, i.host])).toEqual([
      ["issue-1", "other"],
      ["issue-2", "local"],
    ]);
  });

  it("shows no hosts with the default configuration, and fails as before when the engine does not answer", async () => {
    const where = await project(undefined);
    const ports = fakePorts();
    const listing = await listProject({ ...where, ports: ports.overrides, probeTimeoutMs: 0 });
    expect(listing).toEqual({ instances: [], unreachableHosts: [], severalHosts: false });
    ports.runtime.down = true;
    await expect(listProject({ ...where, ports: ports.overrides })).rejects.toThrow("cannot reach the Docker engine");
  });
});
