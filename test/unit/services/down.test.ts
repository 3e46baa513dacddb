import { spawnSync } from "node:child_process";
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FileInstanceLocks } from "../../../src/adapters/fs/instance-locks.ts";
import { downAndPurge, downInstances } from "../../../src/services/instances/down.ts";
import { fakePorts } from "../../fakes/ports.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";

const tempDir = useTempDirs("down-unit");

async function project() {
  const dir = await tempDir();
  await writeFile(path.join(dir, ".cspace.json"), JSON.stringify({ project: { name: "demo" } }));
  return { cwd: dir, env: { CSPACE_RUN_DIR: path.join(dir, "run"), HOME: dir } };
}

describe("cspace down", () => {
  it("of a name that never existed says so and leaves no lock folder behind", async () => {
    const where = await project();
    const ports = fakePorts();
    const lockDir = path.join(where.cwd, "locks");
    const [result] = await downInstances({ ...where, instances: ["ghost"], all: false, ports: { ...ports.overrides, locks: () => new FileInstanceLocks(lockDir) } });
    expect(result).toMatchObject({ instance: "ghost", missing: true });
    await expect(stat(lockDir)).rejects.toThrow(/ENOENT/);
  });

  it("needs names or --all, not both and not neither (exit 2 before anything is opened)", async () => {
    const where = await project();
    await expect(downInstances({ ...where, instances: [], all: false })).rejects.toThrow("name the instances to remove, or pass --all");
    await expect(downInstances({ ...where, instances: ["a"], all: true })).rejects.toThrow("give instance names or --all, not both");
  });
});

describe("cspace down --all --purge", () => {
  /** A project whose data and run directories hold what runs leave: the object store, the event log, reports; and another project's. */
  async function withData() {
    const where = await project();
    const data = path.join(where.cwd, "data");
    const env = { ...where.env, CSPACE_DATA_DIR: data };
    const ports = fakePorts();
    const runId = await ports.eventStore.startRun({});
    const { projectId } = await import("../../../src/core/run-dir.ts");
    const own = path.join(data, projectId("demo", where.cwd));
    const runs = path.join(where.env.CSPACE_RUN_DIR, "runs");
    for (const file of [path.join(own, "objects.git", "HEAD"), path.join(own, "coordinator.db"), path.join(data, "another-project", "coordinator.db"), path.join(runs, runId, "report.md"), path.join(runs, "another-run", "report.md")]) {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, "x");
    }
    return { where: { ...where, env }, ports, own, data, runs, runId };
  }

  it("removes the project's object store, event log and its runs' reports; nothing of another project's", async () => {
    const { where, ports, own, data, runs, runId } = await withData();
    const result = await downAndPurge({ ...where, ports: ports.overrides });
    expect(result.purged).toEqual(expect.arrayContaining([own, path.join(runs, runId)]));
    await expect(stat(own)).rejects.toThrow(/ENOENT/);
    await expect(stat(path.join(runs, runId))).rejects.toThrow(/ENOENT/);
    // CSPACE_RUN_DIR may be shared by projects, and the data directory is: another's files stay.
    expect(await readdir(data)).toEqual(["another-project"]);
    expect(await readdir(runs)).toEqual(["another-run"]);
  });

  it("down --all without --purge keeps them, and a running coordinator refuses the purge before anything goes", async () => {
    const { where, ports, own, runs, runId } = await withData();
    await downInstances({ ...where, instances: [], all: true, ports: ports.overrides });
    expect((await stat(path.join(own, "coordinator.db"))).isFile()).toBe(true);
    expect((await stat(path.join(runs, runId, "report.md"))).isFile()).toBe(true);
    const running = await ports.coordinatorLock.acquire();
    await expect(downAndPurge({ ...where, ports: ports.overrides })).rejects.toThrow(/coordinator/);
    expect((await stat(path.join(own, "objects.git", "HEAD"))).isFile()).toBe(true);
    await running.release();
  });
});

describe("FileInstanceLocks", () => {
  it("ignores a removal request whose process is gone, so a crashed down never blocks warms for ever", async () => {
    const dir = await tempDir();
    const locks = new FileInstanceLocks(dir);
    const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout;
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, "one.removing"), JSON.stringify({ host: (await import("node:os")).hostname(), pid: Number(gone) }));
    expect(await locks.removalRequested("one")).toBe(false);
    await locks.requestRemoval("one");
    expect(await locks.removalRequested("one")).toBe(true);
    await locks.clearRemoval("one");
    expect(await locks.removalRequested("one")).toBe(false);
  });

  it("is held while work runs and released after, even when the work fails", async () => {
    const dir = await tempDir();
    const locks = new FileInstanceLocks(dir);
    let inside = false;
    await expect(
      locks.withLock("one", async () => {
        inside = await locks.held("one");
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(inside).toBe(true);
    expect(await locks.held("one")).toBe(false);
    expect(await readdir(dir)).toEqual([]);
  });
});
