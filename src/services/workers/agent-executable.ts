import type { AgentPreset } from "../../core/agents/preset.ts";
import { ExternalError, UserError } from "../../core/errors.ts";
import type { ContainerRuntime, ExecOptions } from "../../core/instances/ports.ts";

/** An install the registry or the image takes longer than this over is stopped and reported. */
const INSTALL_TIMEOUT_MS = 10 * 60_000;

export interface AgentExecutableOptions {
  readonly preset: AgentPreset;
  /** `agent.package`: the npm install spec to use instead of the preset's pinned one. */
  readonly packageSpec: string | undefined;
  /** How commands run as the container user (its user, environment, workdir). */
  readonly access: ExecOptions;
  /** Told when an install starts: it can take a minute. */
  readonly onNotice?: ((text: string) => void) | undefined;
}

/**
 * The preset's executable on the container user's PATH, installed when it is
 * not (design §7): with the image's npm, as root, the preset's pinned package
 * or `agent.package`. Once per container in practice: the next launch finds
 * it. Where there is nothing to install with, or nothing to install, a clear
 * refusal names the package and the Dockerfile line that would add it.
 */
export async function ensureAgentExecutable(runtime: ContainerRuntime, id: string, options: AgentExecutableOptions): Promise<void> {
  const { preset, access } = options;
  if (await onPath(runtime, id, preset.executable, access)) return;
  const spec = options.packageSpec ?? preset.npmPackage;
  const missing = `the ${preset.name} agent's executable "${preset.executable}" is not on the container user's PATH`;
  if (spec === null) throw new UserError(missing, { hint: `install ${preset.executable} in the image` });
  const dockerfileLine = `add \`RUN npm install -g ${spec}\` to the image's Dockerfile`;
  if (!(await onPath(runtime, id, "npm", { user: "0" }))) {
    throw new UserError(`${missing}, and the image has no npm to install ${spec} with`, { hint: dockerfileLine });
  }
  options.onNotice?.(`installing ${spec} (${preset.executable} is not in the image)…`);
  const installed = await runtime.exec(id, ["npm", "install", "--global", "--no-audit", "--no-fund", "--loglevel=error", spec], {
    user: "0",
    signal: AbortSignal.timeout(INSTALL_TIMEOUT_MS),
  });
  if (installed.exitCode !== 0) {
    throw new ExternalError(`installing ${spec} in the container failed (npm exited ${String(installed.exitCode)}): ${tail(installed.stderr || installed.stdout)}`, {
      hint: `check that the container reaches the npm registry, or ${dockerfileLine}`,
    });
  }
  if (!(await onPath(runtime, id, preset.executable, access))) {
    const prefix = await runtime.exec(id, ["npm", "prefix", "--global"], { user: "0" });
    throw new UserError(`installed ${spec}, but "${preset.executable}" is still not on the container user's PATH`, {
      hint: `npm's global bin is ${prefix.stdout.trim() || "unknown"}/bin: put it on PATH (remoteEnv), or ${dockerfileLine}`,
    });
  }
}

async function onPath(runtime: ContainerRuntime, id: string, executable: string, access: ExecOptions): Promise<boolean> {
  const found = await runtime.exec(id, ["/bin/sh", "-c", 'command -v "$1"', "sh", executable], { ...access, signal: undefined });
  return found.exitCode === 0;
}

function tail(text: string): string {
  const lines = text.trim().split("\n");
  return lines.slice(-5).join("\n");
}
