import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv, type ValidateFunction } from "ajv";
import { OpenAPIBackend, type Request as OpenApiRequest } from "openapi-backend";
import { addFormatsTo, githubFormats } from "./formats.ts";

/**
 * GitHub's official REST description (`@octokit/openapi`), loaded once per
 * process with the fixes notes/github-api.md lists: schemas with `nullable`
 * but no `type` become `anyOf [schema, null]` (Ajv refuses them otherwise) and
 * the legacy `/compare/{base}...{head}` path goes (openapi-backend's router
 * mis-parses it; `/compare/{basehead}` stays).
 */
export interface GithubDescription {
  readonly backend: OpenAPIBackend;
  /** Checks the fields a response carries (see checkResponse). */
  readonly checkResponse: (operationId: string, status: number, body: unknown) => readonly string[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

let cached: Promise<GithubDescription> | undefined;

export function loadGithubDescription(): Promise<GithubDescription> {
  cached ??= load();
  return cached;
}

async function load(): Promise<GithubDescription> {
  const file = createRequire(import.meta.url).resolve("@octokit/openapi/generated/api.github.com.json");
  const spec = fixNullable(JSON.parse(readFileSync(file, "utf8")) as Json);
  if (!isObject(spec) || !isObject(spec.paths)) throw new Error(`${file} is not an OpenAPI description`);
  delete spec.paths["/repos/{owner}/{repo}/compare/{base}...{head}"];

  const backend = new OpenAPIBackend({
    definition: spec as unknown as ConstructorParameters<typeof OpenAPIBackend>[0]["definition"],
    quick: true,
    validate: true,
    strict: false,
    customizeAjv: (ajv) => addFormatsTo(ajv),
  });
  await backend.init();
  const checker = responseChecker(spec);
  return { backend, checkResponse: checker };
}

/** Rewrites `{nullable: true}` without `type` into `anyOf: [schema, {type: "null"}]`, in place. */
function fixNullable(value: Json): Json {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = fixNullable(value[i] ?? null);
    return value;
  }
  if (!isObject(value)) return value;
  for (const key of Object.keys(value)) value[key] = fixNullable(value[key] ?? null);
  // `nullable` admits null, but an `enum` beside it must list null too for a JSON Schema validator.
  if (value.nullable === true && Array.isArray(value.enum) && !value.enum.includes(null)) value.enum.push(null);
  if (value.nullable === true && value.type === undefined) {
    const rest = { ...value };
    delete rest.nullable;
    return { anyOf: [rest, { type: "null" }] };
  }
  return value;
}

/**
 * Responses are checked as a declared subset: the simulator returns the
 * fields cspace reads, not GitHub's 36 required pull-request fields. Every
 * field it returns must be declared by the operation's response schema for
 * that status and match its type; absent fields are not an error.
 */
function responseChecker(spec: JsonObject): GithubDescription["checkResponse"] {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormatsTo(ajv);
  const components = isObject(spec.components) ? spec.components : {};
  ajv.addSchema({ $id: "github-subset", components: stripRequired(components) });
  const operations = new Map<string, JsonObject>();
  for (const item of Object.values(isObject(spec.paths) ? spec.paths : {})) {
    if (!isObject(item)) continue;
    for (const op of Object.values(item)) if (isObject(op) && typeof op.operationId === "string") operations.set(op.operationId, op);
  }
  const resolve = (node: Json): Json => {
    let current = node;
    while (isObject(current) && typeof current.$ref === "string") current = pointer(spec, current.$ref);
    return current;
  };
  const validators = new Map<string, ValidateFunction | null>();

  return (operationId, status, body) => {
    const key = `${operationId} ${status}`;
    let validate = validators.get(key);
    const schema = responseSchema(operations.get(operationId), status, resolve);
    if (validate === undefined) {
      validate = schema === null ? null : ajv.compile(retarget(structuredClone(schema)) as JsonObject);
      validators.set(key, validate);
    }
    if (schema === null || validate === null) {
      // Error statuses the description leaves out (401, 429, …) carry GitHub's generic message shape.
      return body === "" || body === undefined || status >= 400 ? [] : [`${key}: the description declares no JSON body for this status`];
    }
    const problems: string[] = [];
    if (!validate(body)) for (const e of validate.errors ?? []) problems.push(`${key}: ${e.instancePath || "/"} ${e.message ?? e.keyword}`);
    undeclared(body as Json, schema, resolve, "", problems, key);
    return problems;
  };
}

function responseSchema(op: JsonObject | undefined, status: number, resolve: (n: Json) => Json): Json | null {
  if (op === undefined || !isObject(op.responses)) return null;
  const response = resolve(op.responses[String(status)] ?? op.responses.default ?? null);
  if (!isObject(response) || !isObject(response.content)) return null;
  const media = response.content["application/json"] ?? Object.values(response.content)[0] ?? null;
  return isObject(media) && media.schema !== undefined ? media.schema : null;
}

/** Reports object keys the schema does not declare, following $ref, allOf, anyOf, oneOf and items. */
function undeclared(value: Json, schema: Json, resolve: (n: Json) => Json, at: string, problems: string[], key: string): void {
  const s = resolve(schema);
  if (!isObject(s) || value === null) return;
  if (Array.isArray(value)) {
    const items = s.items;
    if (items !== undefined) {
      for (const [i, v] of value.entries()) undeclared(v, items, resolve, `${at}/${i}`, problems, key);
    }
    for (const branch of branches(s)) if (isObject(resolve(branch)) && resolveType(resolve(branch)) === "array") undeclared(value, branch, resolve, at, problems, key);
    return;
  }
  if (!isObject(value)) return;
  const declared = new Map<string, Json>();
  const extra = { open: false };
  const collect = (node: Json): void => {
    const n = resolve(node);
    if (!isObject(n)) return;
    if (isObject(n.properties)) for (const [name, sub] of Object.entries(n.properties)) declared.set(name, sub);
    if (n.additionalProperties !== undefined && n.additionalProperties !== false) extra.open = true;
    for (const b of branches(n)) collect(b);
  };
  collect(s);
  if (declared.size === 0) return;
  for (const [name, v] of Object.entries(value)) {
    const sub = declared.get(name);
    if (sub === undefined) {
      if (!extra.open) problems.push(`${key}: ${at}/${name} is not declared by the response schema`);
      continue;
    }
    undeclared(v, sub, resolve, `${at}/${name}`, problems, key);
  }
}

function branches(s: JsonObject): Json[] {
  return [s.allOf, s.anyOf, s.oneOf].flatMap((b) => (Array.isArray(b) ? b : []));
}

function resolveType(s: Json): Json {
  return isObject(s) ? (s.type ?? null) : null;
}

function stripRequired(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripRequired);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) if (!(k === "required" && Array.isArray(v))) out[k] = stripRequired(v);
  return out;
}

/** Points `#/components/...` refs at the required-free copy. */
function retarget(value: Json): Json {
  if (Array.isArray(value)) return value.map(retarget);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === "required" && Array.isArray(v)) continue;
    out[k] = k === "$ref" && typeof v === "string" ? `github-subset${v}` : retarget(v);
  }
  return out;
}

function pointer(root: JsonObject, ref: string): Json {
  let node: Json = root;
  for (const part of ref.replace(/^#\//, "").split("/")) {
    node = isObject(node) ? (node[part.replaceAll("~1", "/").replaceAll("~0", "~")] ?? null) : null;
  }
  return node;
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export type { OpenApiRequest };
export { githubFormats };
