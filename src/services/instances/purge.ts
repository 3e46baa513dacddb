import path from "node:path";
import { removeProjectData } from "../../adapters/fs/project-data.ts";
import { dataDirFor } from "../../adapters/git/workspaces.ts";
import type { OpenedProject } from "../project.ts";

/**
 * `down --all --purge`: the project's object store, workspaces, event log
 * (every run's history), locks and scratch space (`<data dir>/<project id>`),
 * and its run directory's reports and files; never the project's checkout,
 * its forge (the bare repository, the issues, pull requests), nor images.
 * Runs under the coordinator lock, so no coordinator starts on it meanwhile.
 */
export async function purgeProjectData(project: OpenedProject, held: { release(): Promise<void> }): Promise<string[]> {
  const store = await project.ports.eventStore();
  let runIds: string[];
  try {
    runIds = (await store.runs()).map((run) => run.runId);
  } finally {
    // The log's files are removed next: closed first.
    await store.close();
  }
  const removed = await removeProjectData({
    dataDir: path.join(dataDirFor(project.env), project.projectId),
    runDir: project.runDir,
    ownsRunDir: project.runDirSpec.source !== "CSPACE_RUN_DIR",
    runIds,
  });
  // The lock's file went with the data directory: giving it up finds nothing to remove.
  await held.release().catch(() => undefined);
  return removed;
}
