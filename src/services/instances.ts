import os from "node:os";
import { DockerRuntime } from "../adapters/docker/containers.ts";
import { removeInstanceFiles } from "../adapters/instance-files.ts";
import { dataDirFor, GitWorkspaces } from "../adapters/git/workspaces.ts";
import type { Config } from "../core/config/schema.ts";
import { envFromList } from "../core/devcontainer/substitute.ts";
import { UserError } from "../core/errors.ts";
import { LABELS } from "../core/instances/labels.ts";
import { containerNameFor, validateInstanceName } from "../core/instances/names.ts";
import type { ContainerInfo, ContainerRuntime, Terminal } from "../core/instances/ports.ts";
import { projectId, runDirFor } from "../core/run-dir.ts";
import { loadConfig } from "./config.ts";
import { loadInstanceSpec } from "./warm-spec.ts";

/** Everything the instance commands share: the project, its engine, its workspaces. */
export interface ProjectContext {
  readonly config: Config;
  readonly projectDir: string;
  readonly projectId: string;
  readonly runDir: string;
  readonly runtime: ContainerRuntime;
  readonly workspaces: GitWorkspaces;
  readonly env: NodeJS.ProcessEnv;
}

/** Loads the project and checks the engine answers, before any work (exit 3 with a hint otherwise). */
export async function openProject(cwd: string, env: NodeJS.ProcessEnv): Promise<ProjectContext> {
  const { config, projectDir } = await loadConfig({ cwd, env });
  const id = projectId(config.project.name, projectDir);
  const runDir = runDirFor({ env, projectName: config.project.name, projectDir, uid: process.getuid?.(), tmpdir: os.tmpdir() }).path;
  const runtime = new DockerRuntime(env);
  await runtime.ping();
  const workspaces = new GitWorkspaces({ projectDir, dataDir: dataDirFor(env), projectId: id });
  return { config, projectDir, projectId: id, runDir, runtime, workspaces, env };
}

export interface InstanceSummary {
  readonly instance: string;
  readonly container: string;
  readonly state: ContainerInfo["state"];
  readonly base: string | null;
  readonly image: string;
  readonly createdAt: string;
}

/** This project's instances, found by label only. */
export async function listInstances(options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<InstanceSummary[]> {
  const project = await openProject(options.cwd, options.env);
  const found = await project.runtime.list({ [LABELS.project]: project.projectId });
  return found
    .map((c) => ({
      instance: c.labels[LABELS.instance] ?? c.name,
      container: c.name,
      state: c.state,
      base: c.labels[LABELS.base] ?? null,
      image: c.image,
      createdAt: c.createdAt,
    }))
    .sort((a, b) => a.instance.localeCompare(b.instance));
}

export interface DownResult {
  readonly instance: string;
  /** What was there and is gone now. */
  readonly removed: { readonly container: boolean; readonly workspace: boolean; readonly files: readonly string[] };
  /** Nothing of the instance existed. */
  readonly missing: boolean;
}

/** Removes container, workspace and run-dir files of the named instances, or of every instance of this project. */
export async function downInstances(options: { cwd: string; env: NodeJS.ProcessEnv; instances: readonly string[]; all: boolean }): Promise<DownResult[]> {
  if (options.all === (options.instances.length > 0)) {
    throw new UserError(options.all ? "give instance names or --all, not both" : "name the instances to remove, or pass --all", {
      hint: "cspace down issue-10 issue-11, or cspace down --all",
    });
  }
  const names = options.instances.map(validateInstanceName);
  const project = await openProject(options.cwd, options.env);
  const targets = options.all
    ? [...new Set((await project.runtime.list({ [LABELS.project]: project.projectId })).map((c) => c.labels[LABELS.instance]).filter((n) => n !== undefined))].sort()
    : names;
  const results: DownResult[] = [];
  for (const instance of targets) results.push(await removeInstance(project, instance));
  return results;
}

/** Container (found by label), workspace and run-dir files of one instance. */
export async function removeInstance(project: ProjectContext, instance: string): Promise<DownResult> {
  const containers = await project.runtime.list({ [LABELS.project]: project.projectId, [LABELS.instance]: instance });
  let container = false;
  for (const c of containers) container = (await project.runtime.remove(c.id)) || container;
  const workspace = await project.workspaces.remove(instance);
  const files = await removeInstanceFiles(project.runDir, instance);
  return { instance, removed: { container, workspace, files }, missing: !container && !workspace && files.length === 0 };
}

/** Runs a command (or, with none, a login shell) in the instance's workspace folder as its user, with remoteEnv. */
export async function execInInstance(options: {
  cwd: string;
  env: NodeJS.ProcessEnv;
  instance: string;
  command: readonly string[];
  terminal: Terminal;
}): Promise<number> {
  const instance = validateInstanceName(options.instance);
  const project = await openProject(options.cwd, options.env);
  const container = await project.runtime.inspect(containerNameFor(project.projectId, instance));
  if (container?.labels[LABELS.project] !== project.projectId) {
    throw new UserError(`there is no instance "${instance}" in this project`, { hint: `cspace warm ${instance} makes it; cspace list shows what there is` });
  }
  if (container.state !== "running") {
    throw new UserError(`instance "${instance}" is ${container.state}, not running`, { hint: `cspace warm ${instance} starts it again` });
  }
  const access = await instanceAccess(project, instance, envFromList(container.env));
  const command = options.command.length > 0 ? options.command : ["/bin/sh", "-c", 'exec "${SHELL:-/bin/bash}" -l 2>/dev/null || exec /bin/sh -l'];
  return project.runtime.execAttached(container.id, command, options.terminal, access);
}

export interface InstanceAccess {
  readonly user: string | undefined;
  readonly workdir: string;
  readonly env: Readonly<Record<string, string>>;
}

/** How a person or cspace reaches into an instance: remoteUser, workspaceFolder, remoteEnv. */
export async function instanceAccess(project: ProjectContext, instance: string, containerEnv: Readonly<Record<string, string>>): Promise<InstanceAccess> {
  const loaded = await loadInstanceSpec(project, instance, containerEnv);
  const spec = loaded.spec;
  return {
    user: spec.remoteUser ?? spec.containerUser ?? undefined,
    workdir: spec.workspaceFolder,
    env: spec.remoteEnv,
  };
}
