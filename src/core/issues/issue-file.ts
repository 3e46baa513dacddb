import { parse as parseYaml, YAMLParseError } from "yaml";
import { z } from "zod";
import { UserError } from "../errors.ts";
import type { Issue } from "./issue.ts";

/** `<N>.md`: the issue number is the file name, so two files can never claim one number. */
const ISSUE_FILE_NAME = /^([1-9][0-9]{0,8})\.md$/;

export function issueNumberFromFileName(fileName: string): number | null {
  const match = ISSUE_FILE_NAME.exec(fileName);
  return match?.[1] === undefined ? null : Number(match[1]);
}

const frontMatterSchema = z.strictObject({
  title: z.string().trim().min(1, "a non-empty title"),
  state: z.enum(["open", "closed"]).default("open"),
  labels: z.array(z.string()).default([]),
  milestone: z.union([z.string(), z.number().transform(String)]).nullable().default(null),
});

const FRONT_MATTER = /^---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;

/**
 * Reads one local issue file: YAML front matter (`title`, `state`, `labels`,
 * `milestone`) and a markdown body. `fileLabel` is how errors name the file.
 */
export function parseIssueFile(fileLabel: string, number: number, text: string): Issue {
  const match = FRONT_MATTER.exec(text);
  if (match === null) {
    throw new UserError(`${fileLabel}: no front matter; an issue file starts with a "---" block holding at least "title:"`, {
      hint: 'Start the file with:\n---\ntitle: What this issue is about\nstate: open\n---',
    });
  }
  let raw: unknown;
  try {
    raw = parseYaml(match[1] ?? "");
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos ? ` at line ${error.linePos[0].line + 1}` : "";
    throw new UserError(`${fileLabel}: the front matter is not valid YAML${where}: ${firstLine(error)}`);
  }
  const parsed = frontMatterSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = issue.path.length > 0 ? issue.path.join(".") : "front matter";
      return `${key}: ${describeIssue(issue)}`;
    });
    throw new UserError(`${fileLabel}: invalid front matter: ${problems.join("; ")}`, {
      hint: "Valid keys: title (text), state (open or closed), labels (list of text), milestone (text).",
    });
  }
  const { title, state, labels, milestone } = parsed.data;
  return { number, title, state, labels, milestone, body: text.slice(match[0].length) };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") return `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
  return issue.message;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? message;
}
