import { CspaceError, UserError } from "../../core/errors.ts";
import type { WorkspaceStore } from "../../core/instances/ports.ts";
import { localAheadNotice, localForgeRepository } from "../forge-drift.ts";
import type { OpenedProject } from "../project.ts";

/**
 * The commit a warm checks `base` out at. With the local forge's bare
 * repository on this machine, the forge's head of `base`, as the
 * coordinator's launch uses (issue 15: warm took the user's HEAD and
 * coordinate the forge's, without a word), and a warning when the user's
 * own branch has commits the forge's lacks. Otherwise (GitHub, whose fetch
 * needs its token; a forge without the branch) the user's repository's, as before.
 */
export async function startCommit(project: OpenedProject, workspaces: WorkspaceStore, base: string, signal: AbortSignal | undefined, warn: (message: string) => void): Promise<string> {
  if (localForgeRepository(project) === undefined) return workspaces.resolveBase(base, signal);
  let local: string | null = null;
  let missing: UserError | null = null;
  try {
    local = await workspaces.resolveBase(base, signal);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    missing = error;
  }
  let forgeSha: string | null;
  try {
    forgeSha = (await (await project.ports.branches()).fetch([base], { signal })).get(base) ?? null;
  } catch (error) {
    if (!(error instanceof CspaceError) || local === null) throw error;
    warn(`could not read the forge's ${base} (${error.message}): warmed from your own ${base}`);
    return local;
  }
  if (forgeSha === null) {
    if (local === null) throw missing ?? new UserError(`the base branch "${base}" is neither in ${project.projectDir} nor on the forge`);
    return local;
  }
  if (local !== null && local !== forgeSha) {
    const notice = await localAheadNotice(project, base, forgeSha);
    if (notice !== null) warn(notice);
  }
  return forgeSha;
}
