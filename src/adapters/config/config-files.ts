import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { parse, printParseErrorCode, type ParseError } from "jsonc-parser";
import { ExternalError, UserError } from "../../core/errors.ts";
import { exists } from "../fs/exists.ts";

export const CONFIG_FILE = ".cspace.json";
export const LOCAL_CONFIG_FILE = ".cspace.local.json";

/**
 * The project directory for `cwd`: the nearest directory (cwd included)
 * holding `.cspace.json`, else the top of the git work tree, else `cwd`.
 * The search stops at the work tree's top, so a stray `.cspace.json` in a
 * home directory cannot capture every repository below it.
 */
export async function findProjectDir(cwd: string): Promise<string> {
  let dir = path.resolve(cwd);
  for (;;) {
    if (await isFile(path.join(dir, CONFIG_FILE))) return dir;
    if (await exists(path.join(dir, ".git"))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(cwd);
    dir = parent;
  }
}

export type ConfigFileRead = { readonly found: false } | { readonly found: true; readonly value: unknown };

/**
 * Reads and parses one JSONC config file; a missing file is `found: false`.
 * `label` is how messages name the file.
 */
export async function readConfigFile(file: string, label: string): Promise<ConfigFileRead> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = codeOf(error);
    if (code === "ENOENT" || code === "ENOTDIR") return { found: false };
    throw new ExternalError(`cannot read ${label} (${file}): ${code ?? String(error)}`, {
      hint: code === "EACCES" ? `Make the file readable: chmod u+r ${file}` : `Check that ${file} is a readable file.`,
      cause: error,
    });
  }
  return { found: true, value: parseConfigText(label, text) };
}

/** Parses JSON with comments and trailing commas; a syntax error names `label:line:column`. */
export function parseConfigText(label: string, text: string): unknown {
  const source = text.startsWith("\uFEFF") ? text.slice(1) : text;
  if (source.trim() === "") {
    throw new UserError(`${label}: the file is empty; expected an object, like {"project": {"name": "my-project"}}`);
  }
  const errors: ParseError[] = [];
  const value: unknown = parse(source, errors, { allowTrailingComma: true, disallowComments: false });
  const [first] = errors;
  if (first === undefined) return value;
  const { line, column } = positionOf(source, first.offset);
  const excerpt = source.split(/\r?\n/)[line - 1] ?? "";
  throw new UserError(
    `${label}:${line}:${column}: syntax error: ${describeParseError(first)}\n  ${line} | ${excerpt}\n  ${" ".repeat(String(line).length)} | ${" ".repeat(Math.max(0, column - 1))}^`,
    { hint: "The file is JSON with comments (JSONC): look for a missing comma, quote or bracket at or just before that point." },
  );
}

function positionOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf("\n") + 1;
  return { line: before.split("\n").length, column: offset - lineStart + 1 };
}

const PARSE_ERRORS: Readonly<Record<string, string>> = {
  InvalidSymbol: "unexpected character",
  InvalidNumberFormat: "malformed number",
  PropertyNameExpected: "expected a property name in double quotes",
  ValueExpected: "expected a value",
  ColonExpected: 'expected ":" after the property name',
  CommaExpected: 'expected "," between entries',
  CloseBraceExpected: 'expected "}"',
  CloseBracketExpected: 'expected "]"',
  EndOfFileExpected: "unexpected text after the end of the top-level value",
  InvalidCommentToken: "malformed comment",
  UnexpectedEndOfComment: 'comment not closed with "*/"',
  UnexpectedEndOfString: "string not closed with a double quote",
  UnexpectedEndOfNumber: "number cut short",
  InvalidUnicode: "malformed \\u escape",
  InvalidEscapeCharacter: "unknown escape after a backslash",
  InvalidCharacter: "control character inside a string",
};

function describeParseError(error: ParseError): string {
  const name = printParseErrorCode(error.error);
  return PARSE_ERRORS[name] ?? name;
}

/** What is at `target`: used to refuse a missing or non-directory project directory clearly. */
/** Fails with a UserError unless `dir` is an existing directory; `hint` says where to run instead. */
export async function requireDirectory(dir: string, hint: string): Promise<void> {
  const kind = await entryKind(dir);
  if (kind !== "directory") {
    throw new UserError(`${dir} ${kind === "missing" ? "does not exist" : "is not a directory"}`, { hint });
  }
}

export async function entryKind(target: string): Promise<"file" | "directory" | "missing"> {
  try {
    return (await stat(target)).isDirectory() ? "directory" : "file";
  } catch (error) {
    if (codeOf(error) === "ENOENT" || codeOf(error) === "ENOTDIR") return "missing";
    throw new ExternalError(`cannot inspect ${target}: ${codeOf(error) ?? String(error)}`, { cause: error });
  }
}

/** The names in a directory; none when it does not exist. */
export async function fileNamesIn(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (codeOf(error) === "ENOENT" || codeOf(error) === "ENOTDIR") return [];
    throw new ExternalError(`cannot list ${dir}: ${codeOf(error) ?? String(error)}`, { cause: error });
  }
}

/**
 * Creates `file` (and its directory) holding `text` unless something is
 * already there: an existing file is never touched. Returns whether it wrote.
 */
export async function writeFileIfAbsent(file: string, text: string): Promise<boolean> {
  const fail = (error: unknown) =>
    new ExternalError(`cannot write ${file}: ${codeOf(error) ?? String(error)}`, {
      hint: `Check that ${path.dirname(file)} is a directory you may write to.`,
      cause: error,
    });
  try {
    await mkdir(path.dirname(file), { recursive: true });
  } catch (error) {
    throw fail(error);
  }
  try {
    // "wx" makes the existence check and the creation one step.
    await writeFile(file, text, { flag: "wx" });
    return true;
  } catch (error) {
    if (codeOf(error) === "EEXIST") return false;
    throw fail(error);
  }
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  return typeof error.code === "string" ? error.code : undefined;
}
