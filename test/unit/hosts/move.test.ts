import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LABELS } from "../../../src/core/instances/labels.ts";
import { checkoutVolumeName } from "../../../src/core/workspaces/transport.ts";
import { leaveOtherHosts } from "../../../src/services/coordinate/pool/move.ts";
import { openProject } from "../../../src/services/project.ts";
import { warm } from "../../../src/services/warm/warm.ts";
import type { FakeContainerRuntime } from "../../fakes/container-runtime.ts";
import { fakePorts } from "../../fakes/ports.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";

// After the coordinator moves an instance to another host (pool/move.ts): what it had on the other hosts goes, so
// one instance never runs in two places, and nothing of another instance is touched.

const tempDir = useTempDirs("warm-move");

async function project() {
  const dir = await tempDir();
  await mkdir(path.join(dir, ".devcontainer"));
  await writeFile(path.join(dir, ".devcontainer", "devcontainer.json"), JSON.stringify({ image: "cspace-base:bookworm" }));
  const hosts = [{ name: "local", slots: 1 }, { name: "big", docker: "ssh://ci@big.invalid", slots: 2 }, { name: "huge", docker: "ssh://ci@huge.invalid", slots: 2 }];
  await writeFile(path.join(dir, ".cspace.json"), JSON.stringify({ project: { name: "demo" }, workers: { hosts } }));
  return { cwd: dir, env: { CSPACE_RUN_DIR: path.join(dir, "run"), CSPACE_DATA_DIR: path.join(dir, "data"), HOME: dir, PATH: process.env.PATH } };
}

function instancesOn(runtime: FakeContainerRuntime | undefined): string[] {
  return [...(runtime?.containers.values() ?? [])].map((c) => c.spec.Labels[LABELS.instance] ?? "").sort();
}

describe("leaving the other hosts after a move", () => {
  it("removes the instance's containers on every other host, and a remote host's checkout volume, and nothing else", async () => {
    const ports = fakePorts({ hosts: ["big", "huge"] });
    const where = await project();
    // issue-1 here, issue-2 and issue-3 on big; then issue-2 is moved to huge.
    await warm({ ...where, instances: ["issue-1", "issue-2", "issue-3"], reset: false, ports: ports.overrides });
    expect(instancesOn(ports.runtimes("big"))).toEqual(["issue-2", "issue-3"]);
    await warm({ ...where, instances: ["issue-2"], reset: false, ports: ports.overrides, onHost: "huge" });
    const opened = await openProject({ ...where, ports: ports.overrides });
    const checkout = checkoutVolumeName(opened.projectId, "issue-2");
    expect(ports.runtimes("big")?.volumes.has(checkout)).toBe(true);

    expect(await leaveOtherHosts(opened, "issue-2", "huge")).toEqual(["big"]);
    expect(instancesOn(ports.runtimes("big"))).toEqual(["issue-3"]);
    expect(ports.runtimes("big")?.volumes.has(checkout)).toBe(false);
    expect(instancesOn(ports.runtimes("huge"))).toEqual(["issue-2"]);
    expect(instancesOn(ports.runtime)).toEqual(["issue-1"]);

    // Moved from here: the local container goes (its checkout on this machine stays until `cspace down`).
    await warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides, onHost: "huge" });
    expect(await leaveOtherHosts(opened, "issue-1", "huge")).toEqual(["local"]);
    expect(instancesOn(ports.runtime)).toEqual([]);
    expect(instancesOn(ports.runtimes("huge"))).toEqual(["issue-1", "issue-2"]);
    // Nothing elsewhere: nothing to do.
    expect(await leaveOtherHosts(opened, "issue-1", "huge")).toEqual([]);
  });
});
