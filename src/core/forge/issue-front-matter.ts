import { InternalError } from "../errors.ts";
import type { IssueState } from "../issues/issue.ts";

// The same fence parseIssueFile reads: the front matter is the first "---" block.
const FRONT_MATTER = /^---[ \t]*(\r?\n)([\s\S]*?)(\r?\n)---[ \t]*(?:\r?\n|$)/;
const STATE_LINE = /^(state:[ \t]*)([^#\r\n]*?)([ \t]*(?:#.*)?)$/;
const TITLE_LINE = /^title:/;

/**
 * An issue file's text with its front matter `state:` set to `state`, every
 * other byte unchanged. Without a state line one is added after the title
 * (or, when the title spans several lines, at the end of the front matter).
 */
export function withIssueState(text: string, state: IssueState): string {
  const match = FRONT_MATTER.exec(text);
  if (match === null) throw new InternalError("withIssueState: the issue file has no front matter (it was parsed before)");
  const newline = match[1] ?? "\n";
  const body = match[2] ?? "";
  const start = (/^---[ \t]*\r?\n/.exec(text)?.[0] ?? "").length;
  const lines = body.split(/(?<=\n)/);
  const stateIndex = lines.findIndex((line) => STATE_LINE.test(withoutNewline(line)));
  let replaced: string;
  if (stateIndex !== -1) {
    const line = lines[stateIndex] ?? "";
    const bare = withoutNewline(line);
    lines[stateIndex] = bare.replace(STATE_LINE, `$1${state}$3`) + line.slice(bare.length);
    replaced = lines.join("");
  } else {
    const titleIndex = lines.findIndex((line) => TITLE_LINE.test(line));
    const next = lines[titleIndex + 1];
    const singleLineTitle = titleIndex !== -1 && (next === undefined || !/^[ \t]/.test(next));
    if (singleLineTitle && next !== undefined) {
      lines.splice(titleIndex + 1, 0, `state: ${state}${newline}`);
      replaced = lines.join("");
    } else {
      replaced = `${body}${newline}state: ${state}`;
    }
  }
  return text.slice(0, start) + replaced + text.slice(start + body.length);
}

function withoutNewline(line: string): string {
  return line.replace(/\r?\n$/, "");
}
