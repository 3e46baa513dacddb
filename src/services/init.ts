import { readFile } from "node:fs/promises";
import path from "node:path";
import Handlebars from "handlebars";
import { CONFIG_FILE, fileNamesIn, requireDirectory, writeFileIfAbsent } from "../adapters/config/config-files.ts";
import { createLocalRemote, type LocalRemote } from "./init-local-forge.ts";
import { connectRemote, type ConnectedRemote } from "../adapters/git/local-versus-forge.ts";
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
  /** Create a bare repository from the project's git repository and make it the local forge's remote. */
  readonly localForge?: boolean | undefined;
  /** Where that bare repository goes (relative to `cwd`); default `../<name>.git`. */
  readonly remote?: string | undefined;
}

export interface InitResult {
  readonly directory: string;
  /** Paths relative to `directory`, with "/" separators. */
  readonly created: readonly string[];
  readonly kept: readonly string[];
  /** Things the user should know, one line each. */
  readonly notes: readonly string[];
  /** With --local-forge: the user's remote for the bare repository, so later commits reach the forge with a push. */
  readonly remote?: ConnectedRemote | undefined;
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
  if (options.localForge === true && repo !== undefined) {
    throw new UserError("--local-forge and --github name two different forges", { hint: "Pass one of them: --local-forge for a bare repository on disk, --github owner/name for GitHub." });
  }
  if (options.remote !== undefined && options.localForge !== true) {
    throw new UserError(`--remote ${options.remote} names the bare repository --local-forge creates, but --local-forge was not given`, {
      hint: `Add --local-forge: cspace init --local-forge --remote ${options.remote}`,
    });
  }
  const projectName = name ?? projectNameFrom(path.basename(directory));
  // Before any file is written: a refused remote leaves the directory as it was.
  const remote: LocalRemote | undefined = options.localForge === true ? await createLocalRemote(directory, projectName, options.remote) : undefined;

  const created: string[] = [];
  const kept: string[] = [];
  const notes: string[] = [];
  const record = (relative: string, wrote: boolean) => (wrote ? created : kept).push(relative);

  if (remote !== undefined) record(`${remote.relative}/`, remote.created);
  const config = await renderStartingConfig({ name: projectName, repo, remote: remote?.relative });
  const wroteConfig = await writeFileIfAbsent(path.join(directory, CONFIG_FILE), config);
  record(CONFIG_FILE, wroteConfig);
  if (remote !== undefined && !wroteConfig) {
    notes.push(`${CONFIG_FILE} was kept as it is: to use the bare repository, set "forge": {"type": "local", "remote": ${JSON.stringify(remote.relative)}} in it.`);
  }

  // The forge is where runs start and merge: without a remote, later commits would never reach it.
  const connected = remote === undefined ? undefined : await connectRemote(remote.top, remote.path, remote.branch);
  if (connected !== undefined && remote !== undefined) {
    const branch = connected.branch ?? "<branch>";
    notes.push(
      connected.added
        ? `Added the git remote ${connected.name} for ${remote.relative}: \`git push ${connected.name} ${branch}\` sends later commits to the forge, where runs start.`
        : `The git remote ${connected.name} already names ${remote.relative}: \`git push ${connected.name} ${branch}\` sends later commits to the forge.`,
    );
    if (connected.pushProblem !== null) notes.push(`${branch} was not pushed to ${connected.name}: ${connected.pushProblem}`);
  }

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
  return { directory, created, kept, notes, ...(connected === undefined ? {} : { remote: connected }) };
}

/** The commented `.cspace.json` that init writes; it loads to the defaults (with the given name and forge). */
export async function renderStartingConfig(values: { name: string; repo?: string | undefined; remote?: string | undefined }): Promise<string> {
  const render = Handlebars.compile(await template("cspace.jsonc.hbs"), { noEscape: true, strict: false });
  const quoted = (value: string | undefined) => (value === undefined ? undefined : JSON.stringify(value));
  return render({ name: JSON.stringify(values.name), repo: quoted(values.repo), remote: quoted(values.remote) });
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
