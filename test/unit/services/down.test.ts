import { spawnSync } from "node:child_process";
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FileInstanceLocks } from "../../../src/adapters/fs/instance-locks.ts";
import { downInstances } from "../../../src/services/instances/down.ts";
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
