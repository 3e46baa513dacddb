import { lstat, readdir, rm, rmdir } from "node:fs/promises";
import path from "node:path";
import { HOST_ONLY_DIR } from "../../core/messaging/layout.ts";

/** What `cspace down --all --purge` removes of one project on the host, besides its instances. */
export interface ProjectData {
  /** `<data dir>/<project id>`: the object store, the workspaces left, the event log, locks and scratch space. Cspace's own. */
  readonly dataDir: string;
  /** The project's run directory (reports under `runs/`, the host-only directory). */
  readonly runDir: string;
  /**
   * Whether the run directory is the project's alone (`<tmp>/cspace-<uid>/<id>` or `$XDG_RUNTIME_DIR/cspace/<id>`),
   * so all of it goes; false for CSPACE_RUN_DIR, which may be shared: only this project's runs go from it.
   */
  readonly ownsRunDir: boolean;
  /** This project's runs, whose `runs/<id>` directories go. */
  readonly runIds: readonly string[];
}

/**
 * Removes a project's data and logs and returns the paths that were there.
 * Symbolic links are removed, never followed (fs.rm does not follow them).
 * Nothing outside the paths named above is touched.
 */
export async function removeProjectData(data: ProjectData): Promise<string[]> {
  const removed: string[] = [];
  const remove = async (target: string): Promise<void> => {
    if (!(await present(target))) return;
    await rm(target, { recursive: true, force: true });
    removed.push(target);
  };
  await remove(data.dataDir);
  if (data.ownsRunDir) {
    await remove(data.runDir);
    return removed;
  }
  for (const runId of data.runIds) await remove(path.join(data.runDir, "runs", runId));
  // Left empty by this project: gone too; another project's entries keep them.
  for (const dir of [path.join(data.runDir, "runs"), path.join(data.runDir, HOST_ONLY_DIR)]) {
    if ((await readdir(dir).catch(() => null))?.length === 0) {
      await rmdir(dir);
      removed.push(dir);
    }
  }
  return removed;
}

async function present(target: string): Promise<boolean> {
  return lstat(target).then(
    () => true,
    () => false,
  );
}
