import path from "node:path";
import { loadDevcontainer, type LoadedDevcontainer } from "../../adapters/devcontainer/read-devcontainer.ts";
import { dataDirFor } from "../../adapters/git/workspaces.ts";
import { devcontainerId } from "../../core/devcontainer/create-options.ts";
import { substituteContainerEnv } from "../../core/devcontainer/substitute.ts";
import type { ExecOptions, WorkspaceStore } from "../../core/instances/ports.ts";
import type { Project } from "../project.ts";

/**
 * The devcontainer spec as one instance sees it: `${localWorkspaceFolder}` is
 * its checkout, `${devcontainerId}` is its own, and, once the container
 * exists, `${containerEnv:…}` comes from the container's environment.
 */
export async function loadInstanceSpec(
  project: Project,
  workspaces: Pick<WorkspaceStore, "pathOf">,
  instance: string,
  containerEnv?: Readonly<Record<string, string>>,
): Promise<LoadedDevcontainer> {
  const loaded = await loadDevcontainer({
    projectDir: project.projectDir,
    configuredPath: project.config.container.devcontainer,
    context: {
      localEnv: project.env,
      localWorkspaceFolder: workspaces.pathOf(instance),
      devcontainerId: devcontainerId(project.projectDir, instance),
    },
    // The checkout is named after the instance; the folder inside is named after the project.
    repoName: path.basename(project.projectDir),
    // cspace passes container.env into the container too: it gets the same forge-token check.
    configContainerEnv: project.config.container.env,
    cspaceDirs: { dataDir: dataDirFor(project.env), runDir: project.runDirSpec.made[0] ?? project.runDir, ownWorkspace: workspaces.pathOf(instance) },
    configAgentEnv: project.config.agent.env,
  });
  return containerEnv === undefined ? loaded : { ...loaded, spec: substituteContainerEnv(loaded.spec, containerEnv) };
}

/** How a person or cspace reaches into an instance: remoteUser, workspaceFolder, remoteEnv. */
export function accessOf(loaded: LoadedDevcontainer, signal?: AbortSignal): ExecOptions {
  const { spec } = loaded;
  return { user: spec.remoteUser ?? spec.containerUser ?? undefined, workdir: spec.workspaceFolder, env: spec.remoteEnv, signal };
}
