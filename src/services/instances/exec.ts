import { envFromList } from "../../core/devcontainer/substitute.ts";
import { UserError } from "../../core/errors.ts";
import { LABELS } from "../../core/instances/labels.ts";
import { containerNameFor, validateInstanceName } from "../../core/instances/names.ts";
import type { Terminal } from "../../core/instances/ports.ts";
import { openProject, type PortOverrides } from "../project.ts";
import { accessOf, loadInstanceSpec } from "./spec.ts";

/** Runs a command (or, with none, a login shell) in the instance's workspace folder as its user, with remoteEnv. */
export async function execInInstance(options: {
  cwd: string;
  env: NodeJS.ProcessEnv;
  instance: string;
  command: readonly string[];
  terminal: Terminal;
  ports?: PortOverrides;
}): Promise<number> {
  const instance = validateInstanceName(options.instance);
  const project = await openProject(options);
  const [runtime, workspaces] = await Promise.all([project.ports.runtime(), project.ports.workspaces()]);
  const container = await runtime.inspect(containerNameFor(project.projectId, instance));
  if (container?.labels[LABELS.project] !== project.projectId) {
    throw new UserError(`there is no instance "${instance}" in this project`, { hint: `cspace warm ${instance} makes it; cspace list shows what there is` });
  }
  if (container.state !== "running") {
    throw new UserError(`instance "${instance}" is ${container.state}, not running`, { hint: `cspace warm ${instance} starts it again` });
  }
  const access = accessOf(await loadInstanceSpec(project, workspaces, instance, envFromList(container.env)));
  const command = options.command.length > 0 ? options.command : ["/bin/sh", "-c", 'exec "${SHELL:-/bin/bash}" -l 2>/dev/null || exec /bin/sh -l'];
  return runtime.execAttached(container.id, command, options.terminal, access);
}
