import { z } from "zod";
import { configSchema, defaultForgeType } from "./schema.ts";

export type KeyPath = readonly PropertyKey[];

/** What the formatter needs to know about the merged configuration. */
export interface ProblemContext {
  /** The merged input that failed validation. */
  readonly merged: unknown;
  /** The name of the layer that set this key: a file, an environment variable or a flag. */
  sourceOf(path: KeyPath): string;
}

/**
 * Turns zod's issues into lines a user can act on:
 * `<source>: <key.path>: <what was given> — <what is valid>`.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], context: ProblemContext): string[] {
  return issues.flatMap((issue) => describeIssue(issue, context));
}

function describeIssue(issue: z.core.$ZodIssue, context: ProblemContext): string[] {
  const at = (path: KeyPath, sourcePath: KeyPath = path) => `${context.sourceOf(sourcePath)}: ${formatPath(path)}`;
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => {
        const path = [...issue.path, key];
        return `${at(path)}: unknown key — ${unknownKeyAdvice(key, issue.path, context.merged)}`;
      });
    case "invalid_key": {
      const key = issue.path[issue.path.length - 1];
      const valid = issue.issues[0]?.message ?? issue.message;
      return [`${at(issue.path)}: got key ${JSON.stringify(String(key))} — ${valid}`];
    }
    case "invalid_value":
    case "invalid_union": {
      const value = valueAt(context.merged, issue.path);
      // A discriminated union lists its discriminator values in `options`, untyped.
      const options: unknown = issue.code === "invalid_value" ? issue.values : Reflect.get(issue, "options");
      const choices = Array.isArray(options) ? (options as unknown[]) : [];
      return [`${at(issue.path)}: ${given(value)} — ${issue.message}${suggestion(value, choices)}`];
    }
    case "custom": {
      const params: unknown = issue.params;
      const sourcePath = isRecord(params) && Array.isArray(params.sourcePath) ? (params.sourcePath as KeyPath) : issue.path;
      return [`${at(issue.path, sourcePath)}: ${given(valueAt(context.merged, issue.path))} — ${issue.message}`];
    }
    case "invalid_type":
    case "invalid_format":
    case "invalid_element":
    case "not_multiple_of":
    case "too_big":
    case "too_small":
      return [`${at(issue.path)}: ${given(valueAt(context.merged, issue.path))} — ${issue.message}`];
  }
}

/** `coordinator.maxParallel`, `container.env["MY VAR"]`; the top level is named as such. */
export function formatPath(path: KeyPath): string {
  if (path.length === 0) return "(top level)";
  return path
    .map((key, index) => {
      if (typeof key === "number") return `[${key}]`;
      const name = String(key);
      if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name)) return `[${JSON.stringify(name)}]`;
      return index === 0 ? name : `.${name}`;
    })
    .join("");
}

const MAX_SHOWN = 60;

/** The value received, as the user wrote it, shortened when long. */
export function given(value: unknown): string {
  if (value === undefined) return "missing";
  const json = JSON.stringify(value);
  const shown = json.length > MAX_SHOWN ? `${json.slice(0, MAX_SHOWN - 1)}…` : json;
  if (Array.isArray(value)) return `got a list ${shown}`;
  if (isRecord(value)) return `got an object ${shown}`;
  return `got ${shown}`;
}

export function valueAt(root: unknown, path: KeyPath): unknown {
  let value = root;
  for (const key of path) {
    if (!isRecord(value) || !Object.hasOwn(value, key)) return undefined;
    value = value[key as string];
  }
  return value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function suggestion(value: unknown, choices: readonly unknown[]): string {
  if (typeof value !== "string") return "";
  const close = closest(value, choices.filter((choice): choice is string => typeof choice === "string"));
  return close === undefined ? "" : ` (did you mean "${close}"?)`;
}

function unknownKeyAdvice(key: string, objectPath: KeyPath, merged: unknown): string {
  const valid = keysAt(objectPath, merged);
  const close = closest(key, valid);
  if (close !== undefined) return `did you mean "${close}"?`;
  const here = formatPath([...objectPath, key]);
  const elsewhere = configKeyPaths().map(formatPath).filter((candidate) => candidate.endsWith(`.${key}`) || candidate === key);
  const listed = valid.length === 0 ? "no keys are valid here" : `valid keys here: ${valid.join(", ")}`;
  // The key exists for the other forge type: say which type this object is.
  if (elsewhere.includes(here)) {
    const type = valueAt(merged, [...objectPath, "type"]);
    return `not used by a "${typeof type === "string" ? type : defaultForgeType}" forge; ${listed}`;
  }
  const [first] = elsewhere;
  if (first !== undefined) return `did you mean "${first}"?`;
  return listed;
}

/** The keys the schema allows in the object at `path`, following the forge's `type`. */
function keysAt(path: KeyPath, merged: unknown): string[] {
  const schema = schemaAt(configSchema, path, merged, []);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function schemaAt(schema: z.ZodType, path: KeyPath, merged: unknown, walked: PropertyKey[]): z.ZodType | undefined {
  const bare = unwrap(schema);
  if (bare instanceof z.ZodDiscriminatedUnion) {
    const type = valueAt(merged, [...walked, "type"]) ?? defaultForgeType;
    const options = bare.options as readonly z.ZodType[];
    const chosen = options.find((option) => {
      const discriminator = shapeOf(option)?.type;
      const literal = discriminator === undefined ? undefined : unwrap(discriminator);
      return literal instanceof z.ZodLiteral && literal.values.has(type as z.core.util.Literal);
    });
    return chosen === undefined ? undefined : schemaAt(chosen, path, merged, walked);
  }
  const [head, ...rest] = path;
  if (head === undefined) return bare;
  if (!(bare instanceof z.ZodObject)) return undefined;
  const shape = bare.shape as Record<string, z.ZodType>;
  const child = shape[String(head)];
  return child === undefined ? undefined : schemaAt(child, rest, merged, [...walked, head]);
}

function shapeOf(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const bare = unwrap(schema);
  return bare instanceof z.ZodObject ? bare.shape : undefined;
}

function unwrap(schema: z.ZodType): z.ZodType {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault) {
    return unwrap(schema.def.innerType as z.ZodType);
  }
  return schema;
}

let keyPaths: KeyPath[] | undefined;

/** Every key path the schema knows, objects included (both forges' keys too). */
export function configKeyPaths(): readonly KeyPath[] {
  keyPaths ??= collect(configSchema, []);
  return keyPaths;
}

function collect(schema: z.ZodType, prefix: KeyPath): KeyPath[] {
  const bare = unwrap(schema);
  if (bare instanceof z.ZodDiscriminatedUnion) {
    return (bare.options as readonly z.ZodType[]).flatMap((option) => collect(option, prefix));
  }
  if (!(bare instanceof z.ZodObject)) return [];
  return Object.entries(bare.shape as Record<string, z.ZodType>).flatMap(([key, child]) => [
    [...prefix, key],
    ...collect(child, [...prefix, key]),
  ]);
}

/** The candidate within edit distance 2 (and less than the word's own length), if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= 2 && distance < word.length && (best === undefined || distance < best.distance)) {
      best = { candidate, distance };
    }
  }
  return best?.candidate;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
