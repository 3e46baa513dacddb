import { readFile } from "node:fs/promises";
import path from "node:path";
import { ExternalError } from "../../../core/errors.ts";
import { ForgeNotFoundError } from "../../../core/forge/errors.ts";
import { withIssueState } from "../../../core/forge/issue-front-matter.ts";
import type { IssueComment, IssueListing, IssueQuery, SubIssueListing } from "../../../core/forge/port.ts";
import type { Issue } from "../../../core/issues/issue.ts";
import { matchesFilter } from "../../../core/issues/selection.ts";
import { writeFileAtomic } from "../../../shared/atomic-file.ts";
import { ignoredNotice, isCode, parseLocalIssue, readLocalIssues } from "./issue-files.ts";
import { createLocalComments, parseComments } from "./local-comments.ts";

/** The issue half of the local forge: `<N>.md` files, comments in `<N>.comments.md` beside them. */
export interface LocalIssueStore {
  list(query: IssueQuery): Promise<IssueListing>;
  get(number: number): Promise<Issue>;
  close(number: number): Promise<void>;
  comment(number: number, body: string): Promise<IssueComment>;
  comments(number: number): Promise<readonly IssueComment[]>;
  updateComment(number: number, commentId: number, body: string): Promise<IssueComment>;
  /** Issues whose front matter says `parent: <parent>`, by number, whatever their state. */
  subIssues(parent: number): Promise<SubIssueListing>;
}

export function createLocalIssueStore(issuesDir: string, projectDir: string): LocalIssueStore {
  const shown = (name: string) => path.join(path.relative(projectDir, issuesDir) || ".", name);
  const comments = createLocalComments(issuesDir);

  async function readIssueText(number: number): Promise<string> {
    assertIssueNumber(number);
    const file = path.join(issuesDir, `${String(number)}.md`);
    try {
      return await readFile(file, "utf8");
    } catch (error) {
      if (isCode(error, "ENOENT")) throw new ForgeNotFoundError(`issue #${String(number)} not found: no ${shown(`${String(number)}.md`)}`);
      throw new ExternalError(`cannot read ${shown(`${String(number)}.md`)}: ${String(error)}`, { cause: error });
    }
  }

  return {
    async list(query) {
      const { issues, ignored } = await readLocalIssues(issuesDir, projectDir);
      const notices = ignored.map(ignoredNotice);
      if (query.numbers === undefined) return { issues: issues.filter((issue) => matchesFilter(issue, query)), notices };
      const wanted = new Set(query.numbers);
      const found = issues.filter((issue) => wanted.has(issue.number));
      if (found.length < wanted.size) {
        const missing = [...wanted].filter((n) => !found.some((issue) => issue.number === n)).sort((a, b) => a - b);
        throw new ForgeNotFoundError(`issue ${missing.map((n) => `#${String(n)}`).join(", ")} not found in ${shown("")}`);
      }
      return { issues: found.filter((issue) => matchesFilter(issue, query)), notices };
    },

    async get(number) {
      return parseLocalIssue(shown(`${String(number)}.md`), number, await readIssueText(number));
    },

    async close(number) {
      const text = await readIssueText(number);
      const issue = await parseLocalIssue(shown(`${String(number)}.md`), number, text);
      if (issue.state === "closed") return;
      writeFileAtomic(path.join(issuesDir, `${String(number)}.md`), withIssueState(text, "closed"), { durable: true });
    },

    async comment(number, body) {
      await readIssueText(number);
      return comments.add(number, body);
    },

    async comments(number) {
      await readIssueText(number);
      return comments.list(number);
    },

    async updateComment(number, commentId, body) {
      await readIssueText(number);
      return comments.update(number, commentId, body);
    },

    async subIssues(parent) {
      // The parent must exist: a typo in --parent is not "no sub-issues".
      await readIssueText(parent);
      const { issues } = await readLocalIssues(issuesDir, projectDir);
      return { numbers: issues.filter((issue) => issue.parent === parent).map((issue) => issue.number), notices: [] };
    },
  };
}

/** The comment bodies of a `<N>.comments.md` file, oldest first. */
export function parseCommentsFile(text: string): readonly string[] {
  return parseComments(text).map((comment) => comment.body);
}

/** The comments on local issue `number`, oldest first; none when it has no comments file. */
export async function readLocalComments(issuesDir: string, number: number): Promise<readonly string[]> {
  const text = await readFile(path.join(issuesDir, `${String(number)}.comments.md`), "utf8").catch((error: unknown) => {
    if (isCode(error, "ENOENT")) return "";
    throw error;
  });
  return parseCommentsFile(text);
}

function assertIssueNumber(number: number): void {
  if (!Number.isSafeInteger(number) || number < 1) throw new ForgeNotFoundError(`issue #${String(number)} not found: not an issue number`);
}
