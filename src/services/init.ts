import { readFile } from "node:fs/promises";
import path from "node:path";
import Handlebars from "handlebars";
import { CONFIG_FILE, fileNamesIn, requireDirectory, writeFileIfAbsent } from "../adapters/config/config-files.ts";
import { given } from "../core/config/problems.ts";
import { githubRepoSchema, projectNameFrom, projectNameSchema } from "../core/config/schema.ts";
import { InternalError, UserError } from "../core/errors.ts";
import { issueNumberFromFileName } from "../core/issues/issue-file.ts";

export interface InitOptions {
  /** The directory to set up; it must exist. */
  readonly cwd: string;
  readonly name?: string | undefined;
  /** "owner/name": the forge becomes GitHub. */
  readonly github?: string | undefined;
}

export interface InitResult {
  readonly directory: string;
  /** Paths relative to `directory`, with "/" separators. */
  readonly created: readonly string[];
  readonly kept: readonly string[];
  /** Things the user should know, one line each. */
  readonly notes: readonly string[];
}

/** Where the starting files' sources are: `../../templates` from both src/services and dist/services. */
const TEMPLATES = new URL("../../templates/init/", import.meta.url);
const ISSUES_DIR = ".cspace/issues";
const EXAMPLE_ISSUE = `${ISSUES_DIR}/1.md`;

/**
 * Writes a commented `.cspace.json` and, for the local forge, an example
 * issue. Never overwrites: a file already there is kept as it is.
 */
export async function initProject(options: InitOptions): Promise<InitResult> {
  const directory = path.resolve(options.cwd);
  await requireDirectory(directory, "Run cspace init in your project's directory, or pass --cwd <dir> naming an existing directory.");
  const name = checked("--name", projectNameSchema, options.name, (value) => `For example: --name ${projectNameFrom(value)}`);
  const repo = checked("--github", githubRepoSchema, options.github, () => "For example: --github octocat/hello-world");

  const created: string[] = [];
  const kept: string[] = [];
  const notes: string[] = [];
  const record = (relative: string, wrote: boolean) => (wrote ? created : kept).push(relative);

  const config = await renderStartingConfig({ name: name ?? projectNameFrom(path.basename(directory)), repo });
  record(CONFIG_FILE, await writeFileIfAbsent(path.join(directory, CONFIG_FILE), config));

  if (repo !== undefined) {
    notes.push(`Issues come from GitHub (${repo}), so no example issue file was written.`);
  } else {
    const existing = (await fileNamesIn(path.join(directory, ISSUES_DIR))).filter((file) => issueNumberFromFileName(file) !== null);
    if (existing.length > 0 && !existing.includes("1.md")) {
      // An example would join the real backlog as an open issue.
      kept.push(`${ISSUES_DIR}/`);
      notes.push(`${ISSUES_DIR}/ already holds issues, so no example issue was added.`);
    } else {
      record(EXAMPLE_ISSUE, await writeFileIfAbsent(path.join(directory, EXAMPLE_ISSUE), await template("issue-1.md")));
    }
  }
  return { directory, created, kept, notes };
}

/** The commented `.cspace.json` that init writes; it loads to the defaults (with the given name and forge). */
export async function renderStartingConfig(values: { name: string; repo?: string | undefined }): Promise<string> {
  const render = Handlebars.compile(await template("cspace.jsonc.hbs"), { noEscape: true, strict: false });
  return render({ name: JSON.stringify(values.name), repo: values.repo === undefined ? undefined : JSON.stringify(values.repo) });
}

function checked(
  flag: string,
  schema: typeof projectNameSchema,
  value: string | undefined,
  example: (value: string) => string,
): string | undefined {
  if (value === undefined) return undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new UserError(`${flag}: ${given(value)} — ${result.error.issues[0]?.message ?? "invalid"}`, { hint: example(value) });
}

async function template(name: string): Promise<string> {
  const file = new URL(name, TEMPLATES);
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new InternalError(`cspace's template ${file.pathname} is missing: the installation is incomplete`, { cause: error });
  }
}
