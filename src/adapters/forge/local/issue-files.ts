import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { ExternalError, UserError } from "../../../core/errors.ts";
import type { Issue } from "../../../core/issues/issue.ts";
import { issueNumberFromFileName, parseIssueFile } from "../../../core/issues/issue-file.ts";

/** `<N>.comments.md`: the local forge's comments on issue N, not an issue. */
const COMMENTS_FILE = /^[1-9][0-9]{0,8}\.comments\.md$/;

export interface LocalIssues {
  readonly issues: readonly Issue[];
  /** Markdown files skipped because their name is not `<N>.md`, for a warning. */
  readonly ignored: readonly string[];
}

/** Reads every `<N>.md` issue in the local forge's issues directory, by number. */
export async function readLocalIssues(issuesDir: string, projectDir: string): Promise<LocalIssues> {
  const shown = path.relative(projectDir, issuesDir) || ".";
  let names: string[];
  try {
    names = await readdir(issuesDir);
  } catch (error) {
    if (isCode(error, "ENOENT")) {
      throw new UserError(`no issues directory at ${shown}`, {
        hint: "Run `cspace init` to create one with an example issue, or set forge.issuesDir in .cspace.json.",
      });
    }
    throw new ExternalError(`cannot read the issues directory ${shown}: ${String(error)}`, { cause: error });
  }
  const ignored: string[] = [];
  const numbered: { number: number; name: string }[] = [];
  for (const name of names) {
    const number = issueNumberFromFileName(name);
    if (number !== null) numbered.push({ number, name });
    else if (name.endsWith(".md") && !COMMENTS_FILE.test(name)) ignored.push(path.join(shown, name));
  }
  numbered.sort((a, b) => a.number - b.number);
  const issues = await Promise.all(
    numbered.map(async ({ number, name }) => {
      const file = path.join(issuesDir, name);
      const text = await readFile(file, "utf8").catch((error: unknown) => {
        throw new ExternalError(`cannot read ${path.join(shown, name)}: ${String(error)}`, { cause: error });
      });
      return parseIssueFile(path.join(shown, name), number, text);
    }),
  );
  return { issues, ignored: ignored.sort() };
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === code;
}
