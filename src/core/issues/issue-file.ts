import { UserError } from "../errors.ts";
import { readFlatFrontMatter, type IssueFields } from "./flat-front-matter.ts";
import type { Issue } from "./issue.ts";

/** `<N>.md`: the issue number is the file name, so two files can never claim one number. */
const ISSUE_FILE_NAME = /^([1-9][0-9]{0,8})\.md$/;

export function issueNumberFromFileName(fileName: string): number | null {
  const match = ISSUE_FILE_NAME.exec(fileName);
  return match?.[1] === undefined ? null : Number(match[1]);
}

/**
 * The full YAML parser, handed in by the caller: most issue files never need
 * it, so the adapter loads the `yaml` package only when one does.
 */
export type YamlParse = (text: string) => unknown;

/**
 * The full reading of front matter the flat reader cannot take: the YAML
 * parser and the schema check, both handed in by the caller, which loads
 * them (the `yaml` package, zod) only when a file needs them.
 */
export interface FullFrontMatter {
  readonly parseYaml: YamlParse;
  /** The fields, or one message per problem ("labels: expected a list"). */
  readonly validate: (raw: unknown) => { readonly ok: true; readonly fields: IssueFields } | { readonly ok: false; readonly problems: readonly string[] };
}

const FRONT_MATTER = /^---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;

/**
 * Reads a local issue file whose front matter is flat (`title: …`,
 * `labels: [a, b]`, …) without any YAML parser; null when it needs the full
 * one ({@link parseIssueFile}). A file with no front matter at all throws.
 */
export function parseFlatIssueFile(fileLabel: string, number: number, text: string): Issue | null {
  const { frontMatter, body } = splitIssueFile(fileLabel, text);
  const fields = readFlatFrontMatter(frontMatter);
  return fields === null ? null : issueOf(number, fields, body);
}

/**
 * Reads one local issue file: YAML front matter (`title`, `state`, `labels`,
 * `milestone`) and a markdown body. `fileLabel` is how errors name the file.
 */
export function parseIssueFile(fileLabel: string, number: number, text: string, full: FullFrontMatter): Issue {
  const { frontMatter, body } = splitIssueFile(fileLabel, text);
  const flat = readFlatFrontMatter(frontMatter);
  if (flat !== null) return issueOf(number, flat, body);
  let raw: unknown;
  try {
    raw = full.parseYaml(frontMatter);
  } catch (error) {
    const line = yamlErrorLine(error);
    // The front matter starts on the file's second line.
    const where = line === null ? "" : ` at line ${line + 1}`;
    throw new UserError(`${fileLabel}: the front matter is not valid YAML${where}: ${firstLine(error)}`);
  }
  const parsed = full.validate(raw ?? {});
  if (!parsed.ok) {
    throw new UserError(`${fileLabel}: invalid front matter: ${parsed.problems.join("; ")}`, {
      hint: "Valid keys: title (text), state (open or closed), labels (list of text), milestone (text), parent (an issue number).",
    });
  }
  return issueOf(number, parsed.fields, body);
}

function splitIssueFile(fileLabel: string, text: string): { frontMatter: string; body: string } {
  const match = FRONT_MATTER.exec(text);
  if (match === null) {
    throw new UserError(`${fileLabel}: no front matter; an issue file starts with a "---" block holding at least "title:"`, {
      hint: 'Start the file with:\n---\ntitle: What this issue is about\nstate: open\n---',
    });
  }
  return { frontMatter: match[1] ?? "", body: text.slice(match[0].length) };
}

function issueOf(number: number, fields: IssueFields, body: string): Issue {
  const issue: Issue = { number, title: fields.title, state: fields.state, labels: fields.labels, milestone: fields.milestone, body };
  // Only a sub-issue carries `parent`: most issues have none, and their shape stays as it was.
  return fields.parent === null ? issue : { ...issue, parent: fields.parent };
}

/** The 1-based line of a YAMLParseError (the `yaml` package's `linePos`), without importing the package. */
function yamlErrorLine(error: unknown): number | null {
  if (typeof error !== "object" || error === null || !("linePos" in error) || !Array.isArray(error.linePos)) return null;
  const first: unknown = error.linePos[0];
  return typeof first === "object" && first !== null && "line" in first && typeof first.line === "number" ? first.line : null;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? message;
}
