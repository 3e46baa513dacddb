import { UserError } from "../errors.ts";
import { configLayers, finishConfig, mergeLayers, type ConfigLayer, type ResolveInput } from "./merge.ts";
import { describeIssues, valueAt, type KeyPath } from "./problems.ts";
import { configSchema, type Config } from "./schema.ts";

// The layers and their merging live in ./merge.ts, which does not load zod; kept importable from here.
export { environmentBindings, mergeLayers, type ConfigLayer, type Environment, type EnvironmentBinding, type ResolveInput } from "./merge.ts";

/**
 * Merges the layers (files < local file < environment < flags), validates
 * once, and returns the configuration, or throws one UserError listing every
 * problem with the layer that caused it.
 */
export function resolveConfig(input: ResolveInput): Config {
  const problems: string[] = [];
  const layers = configLayers(input, problems);
  const merged = mergeLayers(layers);
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    problems.push(...describeIssues(parsed.error.issues, { merged, sourceOf: (path) => sourceOf(layers, path) }));
  }
  if (problems.length > 0 || !parsed.success) throw invalid(problems);
  return finishConfig(parsed.data, input.defaultProjectName);
}

function invalid(problems: readonly string[]): UserError {
  const message =
    problems.length === 1
      ? `invalid configuration: ${problems[0] ?? ""}`
      : `invalid configuration (${problems.length} problems):\n${problems.map((problem) => `  ${problem}`).join("\n")}`;
  return new UserError(message, {
    hint: "Each problem starts with where the value came from: a config file, an environment variable or a flag.",
  });
}

/**
 * The highest-precedence layer that set `path`; when none set it (a required
 * key is missing), the one that set its nearest parent.
 */
function sourceOf(layers: readonly ConfigLayer[], path: KeyPath): string {
  for (let length = path.length; length >= 0; length--) {
    const prefix = path.slice(0, length);
    for (let index = layers.length - 1; index >= 0; index--) {
      const layer = layers[index];
      if (layer === undefined || (length > 0 && valueAt(layer.value, prefix) === undefined)) continue;
      if (length === 0 && layer.value === undefined) continue;
      return sourceName(layer, path);
    }
  }
  return "defaults";
}

function sourceName(layer: ConfigLayer, path: KeyPath): string {
  for (let length = path.length; length > 0; length--) {
    const name = layer.sources?.[path.slice(0, length).map(String).join(".")];
    if (name !== undefined) return name;
  }
  return layer.source;
}
