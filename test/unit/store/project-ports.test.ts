import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { expect, it } from "vitest";
import { openProject } from "../../../src/services/project.ts";
import { fakePorts } from "../../fakes/ports.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";

const tempDir = useTempDirs("store-ports");

it("opens the event store and the coordinator lock in the project's data directory, which survives a reboot", async () => {
  const dir = await tempDir();
  await writeFile(path.join(dir, ".cspace.json"), JSON.stringify({ project: { name: "demo" } }));
  const env = { CSPACE_RUN_DIR: path.join(dir, "run"), CSPACE_DATA_DIR: path.join(dir, "data"), HOME: dir };
  const project = await openProject({ cwd: dir, env });
  const projectData = path.join(dir, "data", project.projectId);

  const store = await project.ports.eventStore();
  expect(await project.ports.eventStore()).toBe(store);
  expect(await store.latestRun()).toBeUndefined();
  expect(existsSync(projectData)).toBe(false);
  await store.startRun(null);
  await store.close();
  expect(existsSync(path.join(projectData, "coordinator.db"))).toBe(true);

  const held = await (await project.ports.coordinatorLock()).acquire();
  expect(existsSync(path.join(projectData, "coordinator.lock"))).toBe(true);
  await held.release();
});

it("takes the fakes from fakePorts", async () => {
  const dir = await tempDir();
  await writeFile(path.join(dir, ".cspace.json"), JSON.stringify({ project: { name: "demo" } }));
  const fakes = fakePorts();
  const project = await openProject({ cwd: dir, env: { HOME: dir }, ports: fakes.overrides });
  expect(await project.ports.eventStore()).toBe(fakes.eventStore);
  expect(await project.ports.coordinatorLock()).toBe(fakes.coordinatorLock);
});
