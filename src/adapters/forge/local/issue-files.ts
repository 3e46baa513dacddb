import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { setImmediate as nextTurn } from "node:timers/promises";
import { ExternalError, UserError } from "../../../core/errors.ts";
import type { Issue } from "../../../core/issues/issue.ts";
import { issueNumberFromFileName, parseFlatIssueFile, parseIssueFile, type FullFrontMatter } from "../../../core/issues/issue-file.ts";

/** `<N>.comments.md`: the local forge's comments on issue N, not an issue. */
const COMMENTS_FILE = /^[1-9][0-9]{0,8}\.comments\.md$/;

/** Issue files are small: one buffer holds almost all of them, and bigger ones are read whole. */
const BUFFER_BYTES = 64 * 1024;
/** Files read between yields to the event loop, so a coordinator reading 10,000 issues still answers its sockets. */
const FILES_PER_TURN = 1000;

export interface LocalIssues {
  readonly issues: readonly Issue[];
  /** Markdown files skipped because their name is not `<N>.md`, as shown to the user (relative to the project). */
  readonly ignored: readonly string[];
}

/** The warning for a markdown file the forge skipped because of its name. */
export function ignoredNotice(file: string): string {
  return `ignored ${file}: issue files are named <number>.md`;
}

/**
 * Reads every `<N>.md` issue in the local forge's issues directory, by number.
 *
 * One file open at a time, synchronously, into one reused buffer: with
 * thousands of issues this is several times faster than concurrent async
 * reads (measured: 10,000 files in 70–130 ms against 400–600 ms), needs one
 * descriptor whatever `ulimit -n` is, and keeps no buffers alive. Front
 * matter is read by the flat fast path; `yaml` and zod are loaded only if a file needs them.
 */
export async function readLocalIssues(issuesDir: string, projectDir: string): Promise<LocalIssues> {
  const shown = path.relative(projectDir, issuesDir) || ".";
  const names = await listDirectory(issuesDir, shown);
  const ignored: string[] = [];
  const numbered: { number: number; name: string }[] = [];
  for (const name of names) {
    const number = issueNumberFromFileName(name);
    if (number !== null) numbered.push({ number, name });
    else if (name.endsWith(".md") && !COMMENTS_FILE.test(name)) ignored.push(path.join(shown, name));
  }
  numbered.sort((a, b) => a.number - b.number);

  const issues: Issue[] = new Array<Issue>(numbered.length);
  const needYaml: { index: number; label: string; number: number; text: string }[] = [];
  const buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  // Names are plain `<N>.md`: concatenation gives what path.join would, without normalizing 10,000 times.
  const dirPrefix = issuesDir.endsWith(path.sep) ? issuesDir : issuesDir + path.sep;
  const labelPrefix = shown === "." ? "" : shown + path.sep;
  for (const [index, { number, name }] of numbered.entries()) {
    if (index > 0 && index % FILES_PER_TURN === 0) await nextTurn();
    const label = labelPrefix + name;
    const text = readText(dirPrefix + name, label, buffer);
    const issue = parseFlatIssueFile(label, number, text);
    if (issue === null) needYaml.push({ index, label, number, text });
    else issues[index] = issue;
  }
  if (needYaml.length > 0) {
    const full = await loadFullFrontMatter();
    for (const { index, label, number, text } of needYaml) issues[index] = parseIssueFile(label, number, text, full);
  }
  return { issues, ignored: ignored.sort() };
}

/** Parses one issue file's text, loading the full YAML parser only when its front matter needs it. */
export async function parseLocalIssue(label: string, number: number, text: string): Promise<Issue> {
  return parseFlatIssueFile(label, number, text) ?? parseIssueFile(label, number, text, await loadFullFrontMatter());
}

/** The YAML parser and zod's schema check: loaded only when a file's front matter is not flat. */
async function loadFullFrontMatter(): Promise<FullFrontMatter> {
  const [{ parse }, { validateFrontMatter }] = await Promise.all([import("yaml"), import("../../../core/issues/front-matter-schema.ts")]);
  return { parseYaml: (text) => parse(text) as unknown, validate: validateFrontMatter };
}

async function listDirectory(issuesDir: string, shown: string): Promise<string[]> {
  try {
    return await readdir(issuesDir);
  } catch (error) {
    if (isCode(error, "ENOENT")) {
      throw new UserError(`no issues directory at ${shown}`, {
        hint: "Run `cspace init` to create one with an example issue, or set forge.issuesDir in .cspace.json.",
      });
    }
    throw new ExternalError(`cannot read the issues directory ${shown}: ${String(error)}`, { cause: error });
  }
}

function readText(file: string, label: string, buffer: Buffer): string {
  try {
    const fd = openSync(file, "r");
    let length: number;
    try {
      length = readSync(fd, buffer, 0, buffer.length, 0);
    } finally {
      closeSync(fd);
    }
    return length < buffer.length ? buffer.toString("utf8", 0, length) : readFileSync(file, "utf8");
  } catch (error) {
    throw new ExternalError(`cannot read ${label}: ${String(error)}`, { cause: error });
  }
}

export function isCode(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === code;
}
