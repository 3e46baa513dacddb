/// <reference types="handlebars" />
import { closest } from "../config/problems.ts";
import { catalogueFor, isFields, isList, variableNames, type Fields, type Shape } from "./catalogue.ts";
import type { TemplateKind } from "./data.ts";
import { builtinBlockHelpers, helpers, isHelperName, type ParamKind } from "./helpers.ts";

/**
 * Finds every variable and helper a parsed template uses and checks each
 * against the catalogue of its kind, following the context `#each` and
 * `#with` give their blocks. Strict mode alone would only fail at render
 * time, and only on the branch that runs; this fails at load time, for every
 * branch, with the line and the names that are valid there.
 */

type Node = hbs.AST.Node;
type Program = hbs.AST.Program;
type Expression = hbs.AST.Expression;
type PathExpression = hbs.AST.PathExpression;
type SubExpression = hbs.AST.SubExpression;
type Hash = hbs.AST.Hash;

export interface TemplateProblem {
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
  readonly message: string;
}

interface Scope {
  readonly root: Fields;
  /** What `this` is here. */
  readonly self: Shape;
  /** "inside {{#each dependencies}}", for messages; null at the top level. */
  readonly where: string | null;
  readonly blockParams: ReadonlyMap<string, Shape>;
  readonly inEach: boolean;
}

type Resolved = { readonly ok: true; readonly shape: Shape } | { readonly ok: false; readonly message: string };

const EACH_DATA = ["index", "first", "last"];

export function findTemplateProblems(kind: TemplateKind, program: Program): TemplateProblem[] {
  const root = catalogueFor(kind);
  const problems: TemplateProblem[] = [];
  const scope: Scope = { root, self: root, where: null, blockParams: new Map(), inEach: false };
  walkProgram(program, scope, (node, message) => {
    problems.push({ line: node.loc.start.line, column: node.loc.start.column + 1, message });
  });
  return problems;
}

type Report = (node: Node, message: string) => void;

function walkProgram(program: Program | undefined, scope: Scope, report: Report): void {
  for (const statement of program?.body ?? []) walkStatement(statement, scope, report);
}

function walkStatement(node: Node, scope: Scope, report: Report): void {
  switch (node.type) {
    case "ContentStatement":
    case "CommentStatement":
      return;
    case "MustacheStatement":
      walkMustache(node as hbs.AST.MustacheStatement, scope, report);
      return;
    case "BlockStatement":
      walkBlock(node as hbs.AST.BlockStatement, scope, report);
      return;
    case "PartialStatement":
    case "PartialBlockStatement":
      report(node, "partials ({{> name}}) are not supported: write the text into the template");
      return;
    case "Decorator":
    case "DecoratorBlock":
      report(node, "decorators ({{* name}}) are not supported");
      return;
    default:
      report(node, `unexpected ${node.type}`);
  }
}

function walkMustache(node: hbs.AST.MustacheStatement, scope: Scope, report: Report): void {
  if (node.path.type !== "PathExpression") return; // {{"text"}} prints the literal
  const path = node.path as PathExpression;
  if (node.params.length > 0 || namedArguments(node.hash) > 0 || (isSimple(path) && isHelperName(path.original))) {
    checkHelperCall(path, node.params, node.hash, scope, report);
    return;
  }
  const resolved = resolve(path, scope);
  if (!resolved.ok) {
    report(path, resolved.message);
    return;
  }
  if (isList(resolved.shape)) {
    report(path, `"${path.original}" is a list: print it with {{#each ${path.original}}}…{{/each}} or {{join ${path.original} ", "}}`);
  } else if (isFields(resolved.shape)) {
    const fields = variableNames(resolved.shape, `${path.original}.`);
    report(path, `"${path.original}" is an object: print one of its fields, ${fields.join(", ")}`);
  }
}

function walkBlock(node: hbs.AST.BlockStatement, scope: Scope, report: Report): void {
  const name = node.path.original;
  if (!isSimple(node.path) || !(builtinBlockHelpers as readonly string[]).includes(name)) {
    const why = isHelperName(name) ? `${name} is not a block helper: write ${helpers[name].usage}` : `unknown block helper "${name}"`;
    report(node.path, `${why} — blocks are ${builtinBlockHelpers.map((helper) => `#${helper}`).join(", ")}`);
    return;
  }
  if (node.params.length !== 1 || namedArguments(node.hash) > 0) {
    report(node.path, `{{#${name}}} takes exactly one argument, like {{#${name} ${name === "each" ? "dependencies" : "verifyCommand"}}}`);
    for (const param of node.params) checkExpression(param, "any", scope, report);
    return;
  }
  const [param] = node.params as [Expression];
  // The inverse ({{else}}) runs in the outer context whatever the helper.
  walkProgram(node.inverse, scope, report);
  if (name === "if" || name === "unless") {
    checkExpression(param, "any", scope, report);
    walkProgram(node.program, scope, report);
    return;
  }
  const shape = checkExpression(param, name === "each" ? "list" : "object", scope, report);
  if (shape === null) return; // already reported; the block's contents cannot be checked against an unknown context
  const self = name === "each" && isList(shape) ? shape[0] : shape;
  const blockParams = new Map(scope.blockParams);
  const [itemName, indexName] = blockParamsOf(node.program);
  if (itemName !== undefined) blockParams.set(itemName, self);
  if (indexName !== undefined) blockParams.set(indexName, "value");
  const where = `inside {{#${name} ${describe(param)}}}`;
  walkProgram(node.program, { root: scope.root, self, where, blockParams, inEach: scope.inEach || name === "each" }, report);
}

function checkHelperCall(path: PathExpression, params: readonly Expression[], hash: Hash, scope: Scope, report: Report): void {
  const name = path.original;
  if (!isSimple(path) || !isHelperName(name)) {
    const known = (builtinBlockHelpers as readonly string[]).includes(name);
    report(
      path,
      known
        ? `${name} is a block helper: write {{#${name} …}}…{{/${name}}}`
        : `unknown helper "${name}"${suggestion(name, Object.keys(helpers))} — helpers are ${Object.keys(helpers).join(", ")}`,
    );
    for (const param of params) checkExpression(param, "any", scope, report);
    return;
  }
  const spec = helpers[name];
  const optional: readonly ParamKind[] = "optional" in spec ? spec.optional : [];
  const kinds = [...spec.params, ...optional];
  if (params.length < spec.params.length || params.length > kinds.length || namedArguments(hash) > 0) {
    report(path, `${name} takes ${describeArity(spec.params.length, kinds.length)}: ${spec.usage}`);
  }
  params.forEach((param, index) => checkExpression(param, kinds[index] ?? "any", scope, report));
}

/** Checks an argument; returns its shape when it is a known path (null when not, or when reported). */
function checkExpression(node: Expression, kind: ParamKind | "object", scope: Scope, report: Report): Shape | null {
  if (node.type === "SubExpression") {
    const call = node as SubExpression;
    checkHelperCall(call.path, call.params, call.hash, scope, report);
    if (kind === "list" || kind === "object") report(node, `expected ${article(kind)} here, not a helper's result`);
    return null;
  }
  if (node.type !== "PathExpression") {
    if (kind === "list" || kind === "object") report(node, `expected ${article(kind)} here, not a literal`);
    return null;
  }
  const path = node as PathExpression;
  const resolved = resolve(path, scope);
  if (!resolved.ok) {
    report(path, resolved.message);
    return null;
  }
  const actual = isList(resolved.shape) ? "list" : isFields(resolved.shape) ? "object" : "value";
  if (kind !== "any" && actual !== kind) {
    report(path, `"${path.original}" is ${article(actual)}, expected ${article(kind)} here`);
    return null;
  }
  return resolved.shape;
}

function resolve(path: PathExpression, scope: Scope): Resolved {
  if (path.data) return resolveData(path, scope);
  if (path.depth > 0) {
    return { ok: false, message: `"${path.original}": ../ is not supported; use @root.<name> for a top-level variable, or name the item with a block parameter ({{#each dependencies as |dependency|}})` };
  }
  const [first, ...rest] = path.parts;
  if (!isScoped(path) && first !== undefined && scope.blockParams.has(first)) {
    return walkParts(scope.blockParams.get(first) as Shape, rest, `${first}.`, scope);
  }
  const prefix = isScoped(path) ? "this." : "";
  const resolved = walkParts(scope.self, path.parts, prefix, scope);
  if (resolved.ok || scope.self === scope.root) return resolved;
  // A top-level name used inside #each/#with: handlebars does not look outside the block's context.
  const fromRoot = walkParts(scope.root, path.parts, "", scope);
  return fromRoot.ok ? { ok: false, message: `${resolved.message} (for the top-level "${path.parts.join(".")}", write @root.${path.parts.join(".")})` } : resolved;
}

function resolveData(path: PathExpression, scope: Scope): Resolved {
  const [first, ...rest] = path.parts;
  if (first === "root") return walkParts(scope.root, rest, "@root.", scope);
  if (first !== undefined && EACH_DATA.includes(first) && scope.inEach && rest.length === 0) return { ok: true, shape: "value" };
  const valid = ["@root.<name>", ...(scope.inEach ? EACH_DATA.map((name) => `@${name}`) : [])];
  const inEachOnly = first !== undefined && EACH_DATA.includes(first) && !scope.inEach ? " (only inside {{#each}})" : "";
  return { ok: false, message: `unknown variable "${path.original}"${inEachOnly} — valid here: ${valid.join(", ")}` };
}

/** Follows `parts` from `shape`; `prefix` is how the user reached `shape` ("", "this.", "@root.", "dependency."). */
function walkParts(start: Shape, parts: readonly string[], prefix: string, scope: Scope): Resolved {
  let shape = start;
  for (const [index, part] of parts.entries()) {
    if (isFields(shape) && Object.hasOwn(shape, part)) {
      shape = shape[part] as Shape;
      continue;
    }
    const written = `${prefix}${parts.join(".")}`;
    if (!isFields(shape)) {
      const reached = `${prefix}${parts.slice(0, index).join(".")}`.replace(/\.$/, "") || "this";
      return { ok: false, message: `"${written}": ${reached} is ${article(isList(shape) ? "list" : "value")} and has no field "${part}"` };
    }
    const candidates = variableNames(isFields(start) ? start : {}, prefix);
    const where = scope.where === null || prefix === "@root." ? "" : ` ${scope.where}`;
    return {
      ok: false,
      message: `unknown variable "${written}"${suggestion(written, candidates)} — valid${where}: ${candidates.join(", ")}`,
    };
  }
  return { ok: true, shape };
}

function suggestion(written: string, candidates: readonly string[]): string {
  const close = closest(written, candidates);
  return close === undefined ? "" : ` (did you mean "${close}"?)`;
}

function article(kind: ParamKind | "object" | "value"): string {
  switch (kind) {
    case "list":
      return "a list";
    case "object":
      return "an object";
    case "value":
      return "text";
    case "any":
      return "a value";
  }
}

function describeArity(min: number, max: number): string {
  const count = (n: number) => `${String(n)} argument${n === 1 ? "" : "s"}`;
  return min === max ? count(min) : `${String(min)} or ${count(max)}`;
}

function describe(node: Expression): string {
  return node.type === "PathExpression" ? (node as PathExpression).original : "…";
}

/** `this.x`, `./x`: never a helper, always the current context. */
function isScoped(path: PathExpression): boolean {
  return /^\.|^this\b/.test(path.original);
}

/** The typings say every call has a hash; the parser leaves it out when there are no `name=value` arguments. */
function namedArguments(hash: Hash | undefined): number {
  return hash?.pairs.length ?? 0;
}

/** `as |item index|`; absent, despite the typings, when the block names none. */
function blockParamsOf(program: Program): readonly string[] {
  const named: Partial<Pick<Program, "blockParams">> = program;
  return named.blockParams ?? [];
}

function isSimple(path: PathExpression): boolean {
  return path.parts.length === 1 && !isScoped(path) && path.depth === 0 && !path.data;
}
