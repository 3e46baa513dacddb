import path from "node:path";
import { UserError } from "../errors.ts";
import type { DevcontainerSpec, LifecycleCommand, LifecycleStep } from "./spec.ts";

/**
 * devcontainer.json variables, substituted the way the reference
 * implementation (devcontainers/cli) does: `${name}` or `${name:arg:…}`; an
 * unknown variable is left as written; a missing environment variable without
 * a default becomes "" (as a shell would). One deliberate difference: a
 * default may itself contain ":" (`${localEnv:URL:http://x}` gives
 * "http://x", where the reference would keep only "http").
 */

export interface LocalVariables {
  readonly localEnv: Readonly<Record<string, string | undefined>>;
  readonly localWorkspaceFolder: string;
  /**
   * The project's folder name. Under VS Code it is the basename of the folder
   * opened; cspace mounts a per-instance checkout instead, whose basename is the
   * instance's, so the project's own name is passed in. Default: the basename
   * of localWorkspaceFolder.
   */
  readonly localWorkspaceFolderBasename?: string | undefined;
  /** Unknown until workspaceFolder itself is resolved; then `${containerWorkspaceFolder…}` stays as written. */
  readonly containerWorkspaceFolder: string | undefined;
  readonly devcontainerId: string;
}

const VARIABLE = /\$\{(.*?)\}/g;

type Replace = (match: string, name: string, args: readonly string[]) => string;

function replaceAll(text: string, replace: Replace): string {
  return text.replace(VARIABLE, (match, inner: string) => {
    const [name = "", ...args] = inner.split(":");
    return replace(match, name, args);
  });
}

function lookup(env: Readonly<Record<string, string | undefined>>, match: string, args: readonly string[]): string {
  const [variable, ...rest] = args;
  if (variable === undefined || variable === "") {
    throw new UserError(`${match}: no environment variable name given`, {
      hint: "write ${localEnv:NAME} or ${localEnv:NAME:default}",
    });
  }
  // Object.hasOwn: a variable named like an Object.prototype member is just missing.
  const value = Object.hasOwn(env, variable) ? env[variable] : undefined;
  if (value !== undefined) return value;
  return rest.length > 0 ? rest.join(":") : "";
}

/** Substitutes every variable known before the container exists; `${containerEnv:…}` is left for later. */
export function substituteLocalString(text: string, vars: LocalVariables): string {
  return replaceAll(text, (match, name, args) => {
    switch (name) {
      case "localEnv":
      case "env":
        return lookup(vars.localEnv, match, args);
      case "localWorkspaceFolder":
        return vars.localWorkspaceFolder;
      case "localWorkspaceFolderBasename":
        return vars.localWorkspaceFolderBasename ?? path.basename(vars.localWorkspaceFolder);
      case "containerWorkspaceFolder":
        return vars.containerWorkspaceFolder ?? match;
      case "containerWorkspaceFolderBasename":
        return vars.containerWorkspaceFolder === undefined ? match : path.posix.basename(vars.containerWorkspaceFolder);
      case "devcontainerId":
        return vars.devcontainerId;
      default:
        return match;
    }
  });
}

/** Every string inside a parsed JSON value (object keys untouched), substituted. */
export function substituteLocal(value: unknown, vars: LocalVariables): unknown {
  if (typeof value === "string") return substituteLocalString(value, vars);
  if (Array.isArray(value)) return value.map((item: unknown) => substituteLocal(item, vars));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substituteLocal(item, vars)]));
  }
  return value;
}

/** The second pass: `${containerEnv:VAR}` and `${containerEnv:VAR:default}` against the running container's environment. */
export function substituteContainerEnvString(text: string, containerEnv: Readonly<Record<string, string | undefined>>): string {
  return replaceAll(text, (match, name, args) => (name === "containerEnv" ? lookup(containerEnv, match, args) : match));
}

/**
 * Resolves `${containerEnv:…}` where it can appear after the container
 * exists: remoteEnv and the lifecycle commands. `containerEnv` is the
 * container's environment (e.g. from `docker inspect` Config.Env).
 */
export function substituteContainerEnv(
  spec: DevcontainerSpec,
  containerEnv: Readonly<Record<string, string | undefined>>,
): DevcontainerSpec {
  const sub = (text: string) => substituteContainerEnvString(text, containerEnv);
  const step = (s: LifecycleStep | null): LifecycleStep | null =>
    s === null
      ? null
      : {
          parallel: s.parallel.map(
            (c): LifecycleCommand => ({ name: c.name, command: typeof c.command === "string" ? sub(c.command) : c.command.map(sub) }),
          ),
        };
  return {
    ...spec,
    remoteEnv: Object.fromEntries(Object.entries(spec.remoteEnv).map(([key, value]) => [key, sub(value)])),
    postCreate: step(spec.postCreate),
    postStart: step(spec.postStart),
  };
}

/** `KEY=VALUE` lines (Docker's Config.Env) as a record; the first "=" splits. */
export function envFromList(lines: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of lines) {
    const at = line.indexOf("=");
    if (at > 0) env[line.slice(0, at)] = line.slice(at + 1);
  }
  return env;
}
