import { appendFile, readFile } from "node:fs/promises";
import path from "node:path";
import { ExternalError } from "../../../core/errors.ts";
import { ForgeNotFoundError } from "../../../core/forge/errors.ts";
import type { IssueComment } from "../../../core/forge/port.ts";
import { writeFileAtomic } from "../../../shared/atomic-file.ts";
import { withFileLock } from "../../fs/file-lock.ts";
import { isCode } from "./issue-files.ts";

/**
 * The local forge's comments on issue N: `<N>.comments.md` beside the issue,
 * markdown a person reads as it is, one `### Comment by cspace at <time>`
 * heading per comment. A comment's id is its position in the file, from 1:
 * comments are only ever appended or edited in place, never removed, so a
 * position names the same comment for good. Writers take a lock file beside
 * it (`.<N>.comments.md.lock`), so an edit never loses an append.
 *
 * A body line that would read as a heading is written with one more leading
 * backslash (and read back without it): a comment quoting another, or an
 * issue title in a progress comment, can never split a comment in two and
 * shift the ids of those after it.
 */
const HEADING_TEXT = "### Comment by cspace at ";
const HEADING_LINE = /^### Comment by cspace at (\S+)[^\r\n]*$/gm;
/** A body line that is, or escapes, a heading: `\\### Comment by cspace at …`. */
const ESCAPED = /^(\\*)(### Comment by cspace at )/gm;

interface Entry {
  readonly heading: string;
  readonly body: string;
}

interface CommentsFile {
  /** Whatever precedes the first heading (a person's note), kept as it is. */
  readonly preamble: string;
  readonly entries: readonly Entry[];
}

export function commentsFileName(number: number): string {
  return `${String(number)}.comments.md`;
}

/** The comments of a `<N>.comments.md` file's text, oldest first. */
export function parseComments(text: string): readonly IssueComment[] {
  return parseFile(text).entries.map((entry, index) => ({ id: index + 1, body: entry.body }));
}

function parseFile(text: string): CommentsFile {
  const headings = [...text.matchAll(HEADING_LINE)];
  const first = headings[0];
  if (first === undefined) return { preamble: text, entries: [] };
  const entries = headings.map((match, i) => {
    const start = match.index + match[0].length;
    const end = headings[i + 1]?.index ?? text.length;
    return { heading: match[0].replace(/\r$/, ""), body: unescapeBody(text.slice(start, end).trim()) };
  });
  return { preamble: text.slice(0, first.index), entries };
}

function entryText(entry: Entry): string {
  return `${entry.heading}\n\n${escapeBody(entry.body)}\n\n`;
}

function escapeBody(body: string): string {
  return body.trimEnd().replace(ESCAPED, "\\$1$2");
}

function unescapeBody(body: string): string {
  return body.replace(/^\\(\\*### Comment by cspace at )/gm, "$1");
}

export interface LocalComments {
  list(number: number): Promise<readonly IssueComment[]>;
  add(number: number, body: string): Promise<IssueComment>;
  update(number: number, commentId: number, body: string): Promise<IssueComment>;
}

/** Comments on the issues in `issuesDir`; the caller checks that the issue exists. */
export function createLocalComments(issuesDir: string, now: () => Date = () => new Date()): LocalComments {
  const file = (number: number) => path.join(issuesDir, commentsFileName(number));
  const locked = <T>(number: number, work: () => Promise<T>): Promise<T> => withFileLock(path.join(issuesDir, `.${commentsFileName(number)}.lock`), work);

  async function read(number: number): Promise<string> {
    try {
      return await readFile(file(number), "utf8");
    } catch (error) {
      if (isCode(error, "ENOENT")) return "";
      throw new ExternalError(`cannot read the comments of issue #${String(number)} (${file(number)}): ${String(error)}`, { cause: error });
    }
  }

  return {
    async list(number) {
      return parseComments(await read(number));
    },

    add(number, body) {
      return locked(number, async () => {
        const count = parseFile(await read(number)).entries.length;
        const entry = { heading: `${HEADING_TEXT}${now().toISOString()}`, body: body.trim() };
        await appendFile(file(number), entryText(entry));
        return { id: count + 1, body: entry.body };
      });
    },

    update(number, commentId, body) {
      return locked(number, async () => {
        const current = parseFile(await read(number));
        const entry = current.entries[commentId - 1];
        if (entry === undefined || !Number.isSafeInteger(commentId) || commentId < 1) {
          throw new ForgeNotFoundError(`comment ${String(commentId)} not found on issue #${String(number)}: it has ${String(current.entries.length)} comment(s)`);
        }
        const original = entry.heading.slice(HEADING_TEXT.length).split(/[\s,]/)[0] ?? "";
        const edited = { heading: `${HEADING_TEXT}${original}, edited ${now().toISOString()}`, body: body.trim() };
        const entries = current.entries.map((e, i) => (i === commentId - 1 ? edited : e));
        writeFileAtomic(file(number), current.preamble + entries.map(entryText).join(""), { durable: true });
        return { id: commentId, body: edited.body };
      });
    },
  };
}
