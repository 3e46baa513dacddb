import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { ExternalError } from "../../../src/core/errors.ts";
import { LABELS } from "../../../src/core/instances/labels.ts";
import { checkoutVolumeName, mirrorVolumeName } from "../../../src/core/workspaces/transport.ts";
import { downProject } from "../../../src/services/instances/down.ts";
import { execInInstance } from "../../../src/services/instances/exec.ts";
import { closeOpenConnections } from "../../../src/services/open-connections.ts";
import { openProject, type PortFactories } from "../../../src/services/project.ts";
import { instanceStatus } from "../../../src/services/workers/status.ts";
import type { FakeContainerRuntime } from "../../fakes/container-runtime.ts";
import { fakePorts } from "../../fakes/ports.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";

// The commands that reach an existing worker (exec, status, down) with
// workers.hosts naming more than the local engine: ports.runtime() is then
// one runtime over every host, on the connections ports.hosts() opened.

const tempDir = useTempDirs("routed-commands");

async function project(workers?: unknown) {
  const dir = await tempDir();
  await mkdir(path.join(dir, ".devcontainer"));
  await writeFile(path.join(dir, ".devcontainer", "devcontainer.json"), JSON.stringify({ image: "cspace-base:bookworm" }));
  await writeFile(path.join(dir, ".cspace.json"), JSON.stringify({ project: { name: "demo" }, ...(workers === undefined ? {} : { workers }) }));
  await mkdir(path.join(dir, "run"));
  return { cwd: dir, env: { CSPACE_RUN_DIR: path.join(dir, "run"), CSPACE_DATA_DIR: path.join(dir, "data"), HOME: dir, PATH: process.env.PATH } };
}

const TWO_HOSTS = { hosts: [{ name: "local" }, { name: "big", docker: "ssh://ci@big.invalid" }] };

/** A worker as warm makes one on `host`, with its checkout volume when the host is remote. */
async function worker(runtime: FakeContainerRuntime | undefined, projectId: string, instance: string, host: string, volume = false): Promise<void> {
  if (runtime === undefined) throw new Error("no such fake engine");
  const labels = { [LABELS.project]: projectId, [LABELS.instance]: instance, [LABELS.base]: "main", [LABELS.host]: host };
  const mounts = volume ? [{ Type: "volume", Source: checkoutVolumeName(projectId, instance), Target: "/workspaces/demo", ReadOnly: false, VolumeOptions: { Labels: { "dev.cspace.mirror-of": projectId, [LABELS.host]: host } } }] : [];
  await runtime.start(await runtime.create({ name: `cspace-${projectId}-${instance}`, Image: "cspace-base:bookworm", Env: [], Labels: labels, HostConfig: { Mounts: mounts } } as never));
}

/** A host's mirror keeper and its volume, as the workspace transport leaves them. */
async function keeper(runtime: FakeContainerRuntime | undefined, projectId: string, host: string): Promise<void> {
  if (runtime === undefined) throw new Error("no such fake engine");
  const labels = { "dev.cspace.mirror-of": projectId, [LABELS.host]: host };
  const mounts = [{ Type: "volume", Source: mirrorVolumeName(projectId), Target: "/mirror", ReadOnly: false, VolumeOptions: { Labels: labels } }];
  await runtime.start(await runtime.create({ name: `cspace-${projectId}-keeper-1`, Image: "cspace-base:bookworm", Env: [], Labels: labels, HostConfig: { Mounts: mounts } } as never));
}

function terminal() {
  return { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough(), tty: false };
}

describe("ports.runtime() with the default hosts", () => {
  it("is the local engine itself, and opens no host", async () => {
    const where = await project();
    const ports = fakePorts({ hosts: ["big"] });
    const opened = await openProject({ ...where, ports: ports.overrides });
    expect(await opened.ports.runtime()).toBe(ports.runtime);
    expect(await opened.ports.localRuntime()).toBe(ports.runtime);
    await opened.ports.close();
    expect(ports.hostConnections).toEqual([]);
  });
});

describe("ports.runtime() with another host configured", () => {
  it("is one runtime over every host, whose local host is the local engine itself (never the routed runtime again)", async () => {
    const where = await project(TWO_HOSTS);
    const ports = fakePorts({ hosts: ["big"] });
    const opened = await openProject({ ...where, ports: ports.overrides });
    const runtime = await opened.ports.runtime();
    expect(runtime).not.toBe(ports.runtime);
    expect(runtime.endpoint).toBe("local, big");
    const hosts = await opened.ports.hosts();
    expect(await hosts.get("local")).toBe(ports.runtime);
    expect(await hosts.get("big")).toBe(ports.runtimes("big"));
    // Built on the same connections: the routed runtime opened none of its own.
    await runtime.list({});
    expect(ports.hostConnections).toEqual(["open big"]);
    await opened.ports.close();
    expect(ports.hostConnections).toEqual(["open big", "close big"]);
  });

  it("opens a host that failed again on its next use", async () => {
    const where = await project(TWO_HOSTS);
    const ports = fakePorts({ hosts: ["big"] });
    let refusals = 1;
    const hostRuntime: PortFactories["hostRuntime"] = (host, context) => {
      if (refusals-- > 0) throw new ExternalError("ssh: connection refused");
      return ports.overrides.hostRuntime?.(host, context) ?? Promise.reject(new Error("no fake"));
    };
    const overrides = { ...ports.overrides, hostRuntime };
    const opened = await openProject({ ...where, ports: overrides });
    const hosts = await opened.ports.hosts();
    await expect(hosts.get("big")).rejects.toThrow("host big: ssh: connection refused");
    expect(await hosts.get("big")).toBe(ports.runtimes("big"));
    await opened.ports.close();
  });
});

describe("commands that reach a worker on another host", () => {
  it("exec and status find the worker where it runs over the one connection the command opened, closed when it ends", async () => {
    const where = await project(TWO_HOSTS);
    const ports = fakePorts({ hosts: ["big"] });
    const { projectId } = await openProject({ ...where, ports: ports.overrides });
    await worker(ports.runtimes("big"), projectId, "issue-2", "big");
    const code = await execInInstance({ ...where, instance: "issue-2", command: ["git", "status"], terminal: terminal(), ports: ports.overrides });
    expect(code).toBe(0);
    expect(ports.runtimes("big")?.execs.map((call) => call.command.join(" "))).toEqual(["git status"]);
    expect(ports.runtime.execs).toEqual([]);
    expect(ports.hostConnections).toEqual(["open big"]);
    await closeOpenConnections();
    expect(ports.hostConnections).toEqual(["open big", "close big"]);
    // A running remote worker's status asks it through a relay of the command's own (test/docker/up-remote.test.ts, on a real
    // engine: a fake one runs no relay); a stopped one is found on its host and read from what this machine has.
    ports.runtimes("big")?.kill(`cspace-${projectId}-issue-2`);
    const status = await instanceStatus({ ...where, instance: "issue-2", ports: ports.overrides });
    expect(status.container).toBe("stopped");
    await closeOpenConnections();
    expect(ports.hostConnections).toEqual(["open big", "close big", "open big", "close big"]);
  });

  it("down removes a remote worker's container and its checkout volume on its host, and nothing on the others", async () => {
    const where = await project(TWO_HOSTS);
    const ports = fakePorts({ hosts: ["big"] });
    const { projectId } = await openProject({ ...where, ports: ports.overrides });
    await worker(ports.runtimes("big"), projectId, "issue-2", "big", true);
    await worker(ports.runtime, projectId, "issue-1", "local");
    const report = await downProject({ ...where, instances: ["issue-2"], all: false, ports: ports.overrides });
    expect(report.instances).toEqual([{ instance: "issue-2", removed: { container: true, workspace: true, files: [] }, missing: false }]);
    expect(report.unreachableHosts).toEqual([]);
    expect(ports.runtimes("big")?.containers.size).toBe(0);
    expect([...(ports.runtimes("big")?.volumes ?? [])]).toEqual([]);
    expect([...ports.runtime.containers.values()].map((c) => c.spec.Labels[LABELS.instance])).toEqual(["issue-1"]);
  });

  it("down --all removes what it can on every host that answers, with each host's mirror keeper and volumes, and names the one that does not", async () => {
    const where = await project({ hosts: [...TWO_HOSTS.hosts, { name: "gone", docker: "ssh://ci@gone.invalid" }] });
    const ports = fakePorts({ hosts: ["big"] });
    const { projectId } = await openProject({ ...where, ports: ports.overrides });
    const big = ports.runtimes("big");
    await worker(ports.runtime, projectId, "issue-1", "local");
    await keeper(big, projectId, "big");
    await worker(big, projectId, "issue-2", "big", true);
    // Another project's mirror on the same host stays.
    await keeper(big, "other-project", "big");
    const report = await downProject({ ...where, instances: [], all: true, ports: ports.overrides });
    expect(report.instances.map((r) => [r.instance, r.removed.container])).toEqual([
      ["issue-1", true],
      ["issue-2", true],
    ]);
    expect(report.hosts).toEqual([
      { host: "local", removed: [] },
      { host: "big", removed: [`cspace-${projectId}-keeper-1`, `volume ${mirrorVolumeName(projectId)}`] },
    ]);
    expect(report.unreachableHosts).toEqual([{ host: "gone", error: "no engine answers for host gone (no fake runtime was given for it)" }]);
    expect(ports.runtime.containers.size).toBe(0);
    expect([...(big?.containers.values() ?? [])].map((c) => c.spec.name)).toEqual(["cspace-other-project-keeper-1"]);
    expect([...(big?.volumes ?? [])]).toEqual([mirrorVolumeName("other-project")]);
  });

  it("down fails naming the host when no host answers at all", async () => {
    const where = await project({ hosts: [{ name: "local" }, { name: "gone", docker: "ssh://ci@gone.invalid" }] });
    const ports = fakePorts();
    const overrides = { ...ports.overrides, runtime: () => Promise.reject(new ExternalError("no Docker engine at unix:///nowhere.sock")) };
    await expect(downProject({ ...where, instances: [], all: true, ports: overrides })).rejects.toThrow("host local: no Docker engine at unix:///nowhere.sock");
  });
});
