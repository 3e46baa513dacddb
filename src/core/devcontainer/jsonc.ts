import { parse, printParseErrorCode, type ParseError } from "jsonc-parser";
import { UserError } from "../errors.ts";

/** JSON with comments and trailing commas; a syntax error names `file:line:column` and shows the line. */
export function parseJsonc(file: string, text: string): unknown {
  const source = text.startsWith("\uFEFF") ? text.slice(1) : text;
  if (source.trim() === "") throw new UserError(`${file}: the file is empty; expected an object, like {"image": "node:20-bookworm"}`);
  const errors: ParseError[] = [];
  let value: unknown;
  try {
    value = parse(source, errors, { allowTrailingComma: true, disallowComments: false });
  } catch (error) {
    // The parser recurses per nesting level; only absurd nesting exhausts the stack.
    if (error instanceof RangeError) throw tooDeep(file);
    throw error;
  }
  const [first] = errors;
  if (first === undefined) {
    if (depthOf(value) > MAX_DEPTH) throw tooDeep(file);
    return value;
  }
  const before = source.slice(0, first.offset);
  const line = before.split("\n").length;
  const column = first.offset - (before.lastIndexOf("\n") + 1) + 1;
  const excerpt = (source.split(/\r?\n/)[line - 1] ?? "").slice(0, 200);
  throw new UserError(
    `${file}:${line}:${column}: syntax error (${printParseErrorCode(first.error)})\n  ${line} | ${excerpt}\n  ${" ".repeat(String(line).length)} | ${" ".repeat(Math.min(200, column - 1))}^`,
    { hint: "devcontainer.json is JSON with comments (JSONC): look for a missing comma, quote or bracket at or just before that point." },
  );
}

/** Far beyond any real devcontainer.json; keeps every later recursive walk safe. */
const MAX_DEPTH = 64;

function tooDeep(file: string): UserError {
  return new UserError(`${file}: values are nested more than ${MAX_DEPTH} levels deep; expected a devcontainer.json`);
}

function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [node, depth] = item;
    if (depth > MAX_DEPTH) return depth;
    deepest = Math.max(deepest, depth);
    if (typeof node === "object" && node !== null) for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}
