import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ExternalError, InternalError, UserError } from "../../core/errors.ts";
import type { TemplateKind } from "../../core/templates/data.ts";

/** cspace's own prompts, shipped in the package (same depth from src/ and dist/, like the default .devcontainer/). */
export const BUILTIN_TEMPLATES_DIR = fileURLToPath(new URL("../../../templates/", import.meta.url));

/** Where a project puts its own templates without naming them in the config. */
export const PROJECT_TEMPLATES_DIR = path.join(".cspace", "templates");

/** Project context every template may include, when the project has it. */
export const CONTEXT_FILE = path.join(".cspace", "context.md");

/** `config`: the `templates.<kind>` key; `project`: `.cspace/templates/`; `builtin`: cspace's own. */
export type TemplateOrigin = "config" | "project" | "builtin";

export interface TemplateSource {
  readonly kind: TemplateKind;
  readonly origin: TemplateOrigin;
  /** Absolute. */
  readonly file: string;
  /** How messages name it: relative to the project for the project's own files. */
  readonly shown: string;
  readonly text: string;
}

export function templateFileName(kind: TemplateKind): string {
  return `${kind}.md.hbs`;
}

/**
 * The template for `kind`: the config's path (which must exist: a typo must
 * not fall back silently), else `.cspace/templates/<kind>.md.hbs`, else the
 * built-in one.
 */
export async function readTemplateSource(projectDir: string, kind: TemplateKind, configuredPath?: string): Promise<TemplateSource> {
  if (configuredPath !== undefined) {
    const file = path.resolve(projectDir, configuredPath);
    if (!(await isFile(file))) {
      throw new UserError(`templates.${kind}: ${configuredPath} is not a file (looked at ${file})`, {
        hint: `fix the path in .cspace.json (relative to the project directory), or remove templates.${kind} to use ${path.join(PROJECT_TEMPLATES_DIR, templateFileName(kind))} or cspace's built-in template`,
      });
    }
    return await source(kind, "config", file, shownFrom(projectDir, file));
  }
  const projectFile = path.join(projectDir, PROJECT_TEMPLATES_DIR, templateFileName(kind));
  if (await isFile(projectFile)) return await source(kind, "project", projectFile, shownFrom(projectDir, projectFile));
  const builtin = path.join(BUILTIN_TEMPLATES_DIR, templateFileName(kind));
  return await source(kind, "builtin", builtin, builtin);
}

/** The text of `.cspace/context.md`, or null when the project has none (or it is blank). */
export async function readProjectContext(projectDir: string): Promise<string | null> {
  const file = path.join(projectDir, CONTEXT_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if (isErrno(error, "ENOENT")) return null;
    throw new ExternalError(`cannot read ${CONTEXT_FILE}: ${messageOf(error)}`, { cause: error });
  }
  // Templates put it between their own paragraphs: its trailing blank lines would show as gaps.
  const trimmed = text.trimEnd();
  return trimmed.trim() === "" ? null : trimmed;
}

async function source(kind: TemplateKind, origin: TemplateOrigin, file: string, shown: string): Promise<TemplateSource> {
  try {
    return { kind, origin, file, shown, text: await readFile(file, "utf8") };
  } catch (error) {
    if (origin === "builtin") {
      throw new InternalError(`cspace's built-in ${kind} template ${file} cannot be read: the installation is incomplete (${messageOf(error)})`, { cause: error });
    }
    throw new ExternalError(`cannot read the ${kind} template ${shown}: ${messageOf(error)}`, { cause: error });
  }
}

function shownFrom(projectDir: string, file: string): string {
  const relative = path.relative(projectDir, file);
  return relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

function isErrno(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as NodeJS.ErrnoException).code === code;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
