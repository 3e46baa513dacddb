import path from "node:path";
import { UserError } from "../errors.ts";
import { parseJsonc } from "./jsonc.ts";
import { parseLifecycle } from "./lifecycle.ts";
import { parseMounts } from "./mounts.ts";
import { invalid, isRecord, optionalString, stringRecord } from "./problems.ts";
import { parseRunArgs } from "./run-args.ts";
import { parseSecurityOpt } from "./security-opt.ts";
import type { DevcontainerSpec, ImageSource, ParseOptions } from "./spec.ts";
import { substituteLocal, type LocalVariables } from "./substitute.ts";
import { ignoredKeyWarning, refuseUnsupported } from "./keys.ts";

/** devcontainer.json text → the resolved spec, or a UserError naming the file and key. */
export function parseDevcontainer(text: string, options: ParseOptions): DevcontainerSpec {
  const { file, context } = options;
  const raw = parseJsonc(file, text);
  if (!isRecord(raw)) throw invalid(file, "(top level)", raw, 'expected an object, like {"image": "node:20-bookworm"}');
  refuseUnsupported(file, raw);

  const early: LocalVariables = {
    ...context,
    localWorkspaceFolderBasename: options.repoName,
    containerWorkspaceFolder: context.containerWorkspaceFolder,
  };
  const workspaceFolder = resolveWorkspaceFolder(file, raw.workspaceFolder, early, options);
  const vars: LocalVariables = { ...early, containerWorkspaceFolder: context.containerWorkspaceFolder ?? workspaceFolder };
  const get = (key: string): unknown => (Object.hasOwn(raw, key) ? substituteLocal(raw[key], vars) : undefined);

  const warnings: string[] = [];
  for (const key of Object.keys(raw)) {
    const warning = ignoredKeyWarning(key);
    if (warning !== null) warnings.push(warning);
  }
  const image = imageSource(file, get, warnings);
  const runArgs = parseRunArgs(file, get("runArgs"), context.localEnv);
  const securityOpt = parseSecurityOpt(file, get("securityOpt"));
  warnings.push(...securityOpt.warnings);
  return {
    source: file,
    image,
    containerEnv: stringRecord(file, "containerEnv", get("containerEnv")),
    remoteEnv: stringRecord(file, "remoteEnv", get("remoteEnv"), true),
    containerUser: optionalString(file, "containerUser", get("containerUser")),
    remoteUser: optionalString(file, "remoteUser", get("remoteUser")),
    workspaceFolder,
    mounts: parseMounts(file, get("mounts")),
    runArgs: {
      ...runArgs,
      capAdd: [...new Set([...capabilities(file, get("capAdd")), ...runArgs.capAdd])],
      // Either place turning it off turns it off: the file asked for sudo to work.
      noNewPrivileges: runArgs.noNewPrivileges && securityOpt.noNewPrivileges,
      init: runArgs.init || flag(file, "init", get("init"), false),
    },
    overrideCommand: flag(file, "overrideCommand", get("overrideCommand"), true),
    postCreate: parseLifecycle(file, "postCreateCommand", get("postCreateCommand")),
    postStart: parseLifecycle(file, "postStartCommand", get("postStartCommand")),
    warnings,
  };
}

function resolveWorkspaceFolder(file: string, value: unknown, vars: LocalVariables, options: ParseOptions): string {
  if (value === undefined) {
    const repo = options.repoName ?? path.basename(options.context.localWorkspaceFolder);
    return path.posix.join("/workspaces", repo === "" ? "workspace" : repo);
  }
  const resolved = typeof value === "string" ? (substituteLocal(value, vars) as string) : value;
  if (typeof resolved !== "string" || !resolved.startsWith("/") || path.posix.normalize(resolved) === "/") {
    throw invalid(file, "workspaceFolder", value, "expected an absolute path in the container, like /workspaces/app");
  }
  // "/code/" and "/code" are one folder; mount targets are compared without the slash.
  return path.posix.normalize(resolved).replace(/(.)\/+$/, "$1");
}

function imageSource(file: string, get: (key: string) => unknown, warnings: string[]): ImageSource {
  const dir = path.dirname(file);
  const build = get("build");
  const legacyDockerfile = get("dockerFile");
  const legacyContext = get("context");
  const image = get("image");
  if (build !== undefined || legacyDockerfile !== undefined) {
    if (image !== undefined) warnings.push("image is ignored because build is given (cspace builds the Dockerfile)");
    const spec = build === undefined ? {} : build;
    if (!isRecord(spec)) throw invalid(file, "build", build, 'expected an object, like {"dockerfile": "Dockerfile"}');
    for (const key of Object.keys(spec)) {
      if (!["dockerfile", "context", "args", "target"].includes(key)) warnings.push(`build.${key} is ignored by cspace`);
    }
    const dockerfile = spec.dockerfile ?? legacyDockerfile;
    const dockerfileKey = build === undefined ? "dockerFile" : "build.dockerfile";
    if (typeof dockerfile !== "string" || dockerfile.trim() === "") {
      throw invalid(file, dockerfileKey, dockerfile, "expected the Dockerfile's path, relative to the devcontainer.json's folder");
    }
    const contextValue = spec.context ?? legacyContext ?? ".";
    if (typeof contextValue !== "string" || contextValue.trim() === "") {
      throw invalid(file, spec.context === undefined ? "context" : "build.context", contextValue, "expected a folder, relative to the devcontainer.json's folder");
    }
    const target = spec.target ?? null;
    if (target !== null && (typeof target !== "string" || target.trim() === "")) throw invalid(file, "build.target", target, "expected a build stage name");
    return {
      kind: "build",
      dockerfile: path.resolve(dir, dockerfile),
      context: path.resolve(dir, contextValue),
      args: stringRecord(file, "build.args", spec.args),
      target,
    };
  }
  if (legacyContext !== undefined) warnings.push("context is ignored without a Dockerfile (build.dockerfile)");
  if (image === undefined) {
    throw new UserError(`${file}: neither image nor build is given`, {
      hint: 'name an image ("image": "node:20-bookworm") or a Dockerfile ("build": {"dockerfile": "Dockerfile"})',
    });
  }
  if (typeof image !== "string" || image.trim() === "" || /\s/.test(image)) {
    throw invalid(file, "image", image, 'expected an image reference, like "node:20-bookworm"');
  }
  return { kind: "image", ref: image };
}

function flag(file: string, key: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw invalid(file, key, value, "expected true or false");
  return value;
}

function capabilities(file: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((c): c is string => typeof c === "string" && /^[A-Za-z_]+$/.test(c))) {
    throw invalid(file, "capAdd", value, 'expected a list of capability names, like ["SYS_PTRACE"]');
  }
  return value;
}
