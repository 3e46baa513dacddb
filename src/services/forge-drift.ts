import path from "node:path";
import { localVersusForge, remoteNamed } from "../adapters/git/local-versus-forge.ts";
import { aheadNotice } from "../core/branches/local-ahead.ts";
import { CspaceError } from "../core/errors.ts";
import type { Project } from "./project.ts";

/** The local forge's bare repository (forge.remote), or undefined for a forge with none on this machine. */
export function localForgeRepository(project: Project): string | undefined {
  const forge = project.config.forge;
  return forge.type === "local" && forge.remote !== undefined ? path.resolve(project.projectDir, forge.remote) : undefined;
}

/**
 * The word a run owes the user when their own `branch` holds commits the
 * forge's (at `forgeSha`) does not: the run starts from the forge's, so
 * those commits are not in it (core/branches/local-ahead.ts). Null when
 * there is nothing to say, or nothing could be read.
 */
export async function localAheadNotice(project: Project, branch: string, forgeSha: string): Promise<string | null> {
  const forgeRepo = localForgeRepository(project);
  try {
    const comparison = await localVersusForge(project.projectDir, branch, forgeSha, forgeRepo);
    const remote = forgeRepo === undefined ? null : await remoteNamed(project.projectDir, forgeRepo);
    return aheadNotice(branch, comparison, remote);
  } catch (error) {
    // A notice is never worth failing a run for.
    if (error instanceof CspaceError) return null;
    throw error;
  }
}
