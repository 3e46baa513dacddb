import type { ParsedConfig, Config, ConfigOverrides } from "./schema.ts";
import { defaultForgeType, validValues } from "./rules.ts";
import { formatPath, given, isRecord, type KeyPath } from "./values.ts";

/**
 * The layers of configuration and how they merge, without validating: no zod
 * here (see ./rules.ts). ./layers.ts validates the merged layers with the
 * schema; ./plain.ts, before it, without loading zod.
 */

/**
 * One source of configuration values. `source` names it in error messages
 * (".cspace.json", "environment variable CSPACE_AGENT", "flag --feature-branch");
 * `sources` names particular keys more precisely (dotted path → name).
 */
export interface ConfigLayer {
  readonly source: string;
  readonly value: unknown;
  readonly sources?: Readonly<Record<string, string>>;
}

export type Environment = Readonly<Record<string, string | undefined>>;

export interface ResolveInput {
  /** Config files, lowest precedence first: `.cspace.json`, then `.cspace.local.json`. */
  readonly files: readonly ConfigLayer[];
  readonly env: Environment;
  readonly overrides?: ConfigOverrides | undefined;
  /** Key path ("coordinator.featureBranch") → the flag that set it ("flag --feature-branch" or "--feature-branch"). */
  readonly overrideSources?: Readonly<Record<string, string>> | undefined;
  /** `project.name` when no layer sets it. */
  readonly defaultProjectName: string;
}

export interface EnvironmentBinding {
  readonly variable: string;
  /** The key it sets, as written in .cspace.json. */
  readonly key: string;
  readonly toLayer: (value: string | number) => unknown;
  /** For a numeric key: what is valid, for the message when the value is not a number. */
  readonly numeric?: string;
}

/** Every environment variable cspace reads for its configuration (README table). */
export const environmentBindings: readonly EnvironmentBinding[] = [
  { variable: "CSPACE_FEATURE_BRANCH", key: "coordinator.featureBranch", toLayer: (v) => ({ coordinator: { featureBranch: v } }) },
  {
    variable: "CSPACE_MAX_PARALLEL",
    key: "coordinator.maxParallel",
    toLayer: (v) => ({ coordinator: { maxParallel: v } }),
    numeric: validValues.maxParallel,
  },
  { variable: "CSPACE_AGENT", key: "agent.preset", toLayer: (v) => ({ agent: { preset: v } }) },
  { variable: "CSPACE_AGENT_MODEL", key: "agent.model", toLayer: (v) => ({ agent: { model: v } }) },
  { variable: "CSPACE_AGENT_COMMAND", key: "agent.command", toLayer: (v) => ({ agent: { command: v } }) },
  { variable: "CSPACE_GITHUB_REPO", key: "forge.repo", toLayer: (v) => ({ forge: { type: "github", repo: v } }) },
];

/** Read only when the forge (from every other layer) is GitHub: CI systems set it for their own purposes. */
const GITHUB_API_URL = "GITHUB_API_URL";

/**
 * The layers in precedence order (files < local file < environment < flags),
 * GITHUB_API_URL among them only when the forge they name is GitHub. A
 * problem found while building them (a file that is not an object, a
 * variable that is not a number) is added to `problems`, and that layer left out.
 */
export function configLayers(input: ResolveInput, problems: string[]): ConfigLayer[] {
  const files = input.files.filter((layer) => {
    if (layer.value === undefined || isRecord(layer.value)) return true;
    problems.push(`${layer.source}: ${given(layer.value)} — expected an object at the top level, like {"project": {"name": "my-project"}}`);
    return false;
  });
  const environment = environmentLayers(input.env, problems);
  const flags: ConfigLayer = { source: "flags", value: input.overrides ?? {}, sources: flagSources(input.overrideSources ?? {}) };

  const layers = [...files, ...environment, flags];
  const apiUrl = nonEmpty(input.env[GITHUB_API_URL]);
  if (apiUrl !== undefined && forgeTypeOf(mergeLayers(layers)) === "github") {
    return [...files, ...environment, { source: `environment variable ${GITHUB_API_URL}`, value: { forge: { type: "github", apiUrl } } }, flags];
  }
  return layers;
}

/** The configuration as commands see it: the project named, `$schema` (which only tells editors where the JSON Schema is) gone. */
export function finishConfig(parsed: ParsedConfig, defaultProjectName: string): Config {
  const copy: Partial<ParsedConfig> = { ...parsed, project: { ...parsed.project, name: parsed.project.name ?? defaultProjectName } };
  delete copy.$schema;
  return copy as Config;
}

function environmentLayers(env: Environment, problems: string[]): ConfigLayer[] {
  const layers: ConfigLayer[] = [];
  for (const binding of environmentBindings) {
    const raw = nonEmpty(env[binding.variable]);
    if (raw === undefined) continue;
    const source = `environment variable ${binding.variable}`;
    let value: string | number = raw;
    if (binding.numeric !== undefined) {
      if (!/^[+-]?\d+(\.\d+)?$/.test(raw.trim())) {
        problems.push(`${source}: ${binding.key}: ${given(raw)} — ${binding.numeric}`);
        continue;
      }
      value = Number(raw.trim());
    }
    layers.push({ source, value: binding.toLayer(value) });
  }
  return layers;
}

/** An empty variable counts as unset, as shells make `VAR= cspace …` the way to clear one. */
function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

function flagSources(sources: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(sources).map(([path, name]) => [path, name.startsWith("-") ? `flag ${name}` : name]),
  );
}

export function mergeLayers(layers: readonly ConfigLayer[]): Record<string, unknown> {
  let merged: Record<string, unknown> = {};
  for (const layer of layers) {
    if (isRecord(layer.value)) merged = mergeObjects(merged, layer.value, []);
  }
  return merged;
}

/** Objects merge key by key; scalars and arrays replace. */
function mergeObjects(lower: Record<string, unknown>, upper: Record<string, unknown>, path: KeyPath): Record<string, unknown> {
  const result: Record<string, unknown> = { ...lower };
  for (const [key, value] of Object.entries(upper)) {
    if (value === undefined) continue;
    const below = result[key];
    const childPath = [...path, key];
    result[key] = isRecord(below) && isRecord(value) && !replacesForge(childPath, below, value)
      ? mergeObjects(below, value, childPath)
      : value;
  }
  return result;
}

/**
 * A forge of another type replaces the one below instead of mixing keys the
 * new type does not have; a forge without `type` adds to the one below.
 */
function replacesForge(path: KeyPath, below: Record<string, unknown>, upper: Record<string, unknown>): boolean {
  return formatPath(path) === "forge" && upper.type !== undefined && upper.type !== (below.type ?? defaultForgeType);
}

function forgeTypeOf(merged: Record<string, unknown>): unknown {
  const forge = merged.forge;
  return isRecord(forge) ? (forge.type ?? defaultForgeType) : undefined;
}
