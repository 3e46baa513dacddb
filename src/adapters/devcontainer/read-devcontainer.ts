import { createHash, type Hash } from "node:crypto";
import { lstat, readdir, readFile, readlink, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { builtImageRef } from "../../core/devcontainer/create-options.ts";
import { parseDevcontainer } from "../../core/devcontainer/parse.ts";
import type { BuildSource, DevcontainerSpec, SubstitutionContext } from "../../core/devcontainer/spec.ts";
import { parseJsonc } from "../../core/devcontainer/jsonc.ts";
import { hostExposures, refuseExposures } from "../../core/devcontainer/host-exposure.ts";
import { devcontainerLeaks } from "../../core/devcontainer/secret-leaks.ts";
import { ExternalError, UserError } from "../../core/errors.ts";
import { envMapLeaks, forgeSecretsFrom, refuseLeaks } from "../../core/secrets/forge-token.ts";
import { isIgnored, parseDockerignore, type IgnoreRule } from "./dockerignore.ts";
import { bindSources, guardedHostPaths, onHost, type CspaceDirs } from "./host-paths.ts";

/** cspace's own worker environment, shipped in the package (same depth from src/ and dist/). */
export const DEFAULT_DEVCONTAINER = fileURLToPath(new URL("../../../.devcontainer/devcontainer.json", import.meta.url));

/** The config's default `container.devcontainer`; when it is missing, cspace's own is used. */
const CONVENTIONAL = ".devcontainer/devcontainer.json";

export type DevcontainerOrigin = "project" | "cspace";

export interface LoadedDevcontainer {
  readonly spec: DevcontainerSpec;
  readonly origin: DevcontainerOrigin;
  /** The image to run: `image` as written, or the tag a build of these inputs gets (builtImageRef). */
  readonly imageRef: string;
  /** sha256 (hex) of the build inputs; null for the `image` form. Goes in the dev.cspace.image-inputs label. */
  readonly imageInputs: string | null;
}

export interface LoadInput {
  readonly projectDir: string;
  /** config.container.devcontainer, relative to the project directory. */
  readonly configuredPath: string;
  readonly context: SubstitutionContext;
  readonly repoName?: string | undefined;
  /** `.cspace.json` `container.env`, which cspace also passes into the container: checked for the forge token with the file. */
  readonly configContainerEnv?: Readonly<Record<string, string>> | undefined;
  /** `agent.env`: the supervisor passes it to the agent, so a token value in it is refused here too, before anything is made. */
  readonly configAgentEnv?: Readonly<Record<string, string>> | undefined;
  /** Forge token values found outside the environment (`gh auth token`); GH_TOKEN and the like are read from context.localEnv. */
  readonly forgeTokens?: readonly string[] | undefined;
  /** cspace's own folders, which no mount may expose (with the engine's sockets, the host's root and the home). */
  readonly cspaceDirs: CspaceDirs;
}

/**
 * The project's devcontainer.json (or `.devcontainer.json` at its root), or
 * cspace's own when the project has neither and the config names the
 * conventional path. A path set explicitly in the config must exist.
 */
export async function locateDevcontainer(projectDir: string, configuredPath: string): Promise<{ file: string; origin: DevcontainerOrigin }> {
  const configured = path.resolve(projectDir, configuredPath);
  if (await isFile(configured)) return { file: configured, origin: "project" };
  if (path.normalize(configuredPath) !== path.normalize(CONVENTIONAL)) {
    throw new UserError(`container.devcontainer: ${configuredPath} does not exist (looked at ${configured})`, {
      hint: "fix the path in .cspace.json (relative to the project directory), or remove it to use cspace's default environment",
    });
  }
  const rootFile = path.join(projectDir, ".devcontainer.json");
  if (await isFile(rootFile)) return { file: rootFile, origin: "project" };
  return { file: DEFAULT_DEVCONTAINER, origin: "cspace" };
}

export async function loadDevcontainer(input: LoadInput): Promise<LoadedDevcontainer> {
  const { file, origin } = await locateDevcontainer(input.projectDir, input.configuredPath);
  const text = await readText(file, "devcontainer.json");
  const spec = parseDevcontainer(text, { file, context: input.context, repoName: input.repoName });
  // Every route that makes or enters a container loads its spec here, so this is where the host and the token are kept out.
  // Mount sources are resolved on the host, where Docker will resolve them: a link in the checkout can point anywhere.
  const [sources, guarded, ownWorkspace] = await Promise.all([bindSources(spec.mounts), guardedHostPaths(input.context.localEnv, input.cspaceDirs), onHost(input.cspaceDirs.ownWorkspace)]);
  refuseExposures(hostExposures(file, sources, guarded, [ownWorkspace]));
  const secrets = forgeSecretsFrom(input.context.localEnv, input.forgeTokens);
  refuseLeaks([
    ...devcontainerLeaks({ file, raw: parseJsonc(file, text), spec, localEnv: input.context.localEnv, secrets }),
    ...envMapLeaks(".cspace.json", "container.env", input.configContainerEnv ?? {}, secrets),
    ...envMapLeaks(".cspace.json", "agent.env", input.configAgentEnv ?? {}, secrets),
  ]);
  if (spec.image.kind === "image") return { spec, origin, imageRef: spec.image.ref, imageInputs: null };
  const imageInputs = await buildInputsHash(spec.image, spec.source);
  return { spec, origin, imageRef: builtImageRef(imageInputs), imageInputs };
}

/**
 * sha256 over everything a build reads: the Dockerfile, the build args and
 * target, and every file of the context not excluded by its `.dockerignore`
 * (paths sorted, `.git` skipped). Same inputs, same hash, whatever the
 * machine or the order the filesystem lists files in.
 */
export async function buildInputsHash(source: BuildSource, label = "devcontainer.json"): Promise<string> {
  const hash = createHash("sha256");
  const field = (name: string, value: string | Buffer) => {
    const bytes = typeof value === "string" ? Buffer.from(value) : value;
    hash.update(`${name}:${bytes.length}:`).update(bytes).update("\n");
  };
  field("version", "cspace-build-inputs-1");
  field("dockerfile", await readText(source.dockerfile, `${label}: the Dockerfile`));
  const args = Object.keys(source.args).sort().map((key) => [key, source.args[key]]);
  field("args", JSON.stringify(args));
  field("target", source.target ?? "");
  const context = await stat(source.context).catch(() => null);
  if (context === null || !context.isDirectory()) {
    throw new UserError(`${label}: the build context ${source.context} is not a directory`, {
      hint: "build.context is relative to the devcontainer.json's folder; the default is that folder",
    });
  }
  const ignore = await readFile(path.join(source.context, ".dockerignore"), "utf8").catch(() => "");
  await walk(source.context, "", parseDockerignore(ignore), hash, field);
  return hash.digest("hex");
}

async function walk(
  root: string,
  relative: string,
  rules: readonly IgnoreRule[],
  hash: Hash,
  field: (name: string, value: string | Buffer) => void,
): Promise<void> {
  const dir = path.join(root, relative);
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: unknown) => {
    throw new ExternalError(`cannot read the build context folder ${dir}: ${String(error)}`, { cause: error });
  });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const rel = relative === "" ? entry.name : `${relative}/${entry.name}`;
    if (entry.name === ".git" && relative === "") continue;
    const full = path.join(root, rel);
    if (entry.isDirectory()) {
      // A re-included path below an ignored folder must still be found, so only skip folders when nothing is re-included.
      const ignored = isIgnored(rules, rel);
      if (ignored && !rules.some((rule) => rule.negate)) continue;
      if (!ignored) field("dir", rel);
      await walk(root, rel, rules, hash, field);
      continue;
    }
    if (isIgnored(rules, rel)) continue;
    if (entry.isSymbolicLink()) field(`link ${rel}`, await readlink(full));
    else if (entry.isFile()) {
      const stats = await lstat(full);
      field(`file ${rel} ${(stats.mode & 0o111) === 0 ? "" : "x"}`, await readBytes(full));
    }
  }
}

async function readText(file: string, label: string): Promise<string> {
  return (await readBytes(file, label)).toString("utf8");
}

async function readBytes(file: string, label = "a build context file"): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") {
      throw new UserError(`${label} ${file} does not exist or is not a file`);
    }
    throw new ExternalError(`cannot read ${label} ${file}: ${code ?? String(error)}`, { cause: error });
  }
}

async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => null))?.isFile() ?? false;
}
