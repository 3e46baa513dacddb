import * as z from "zod";
import { configSchema, defaultForgeType } from "./schema.ts";
import { closest, formatPath, given, isRecord, valueAt, type KeyPath } from "./values.ts";

// Kept importable from here, where they were first.
export { closest, formatPath, given, isRecord, valueAt, type KeyPath };

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
      // A secret (the forge token) is never quoted back: the message would carry it to the terminal and logs.
      if (isRecord(params) && params.secret === true) return [`${at(issue.path, sourcePath)}: ${issue.message}`];
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
  // Into lists of objects: workers.hosts[1].dockr gets its "did you mean".
  if (bare instanceof z.ZodArray && typeof head === "number") return schemaAt(bare.element as z.ZodType, rest, merged, [...walked, head]);
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
