import type { IssueReference } from "./issue.ts";

/** A dependency reference together with the line it was written on (for error messages). */
export interface DependencyMention extends IssueReference {
  /** The source line, trimmed: `blocked-by: #12`. */
  readonly line: string;
}

/**
 * What may precede the keyword on a dependency line: indentation, blockquote
 * markers, list markers (`-`, `*`, `+`, `1.`, `1)`), task-list boxes and
 * bold/italic markup, in any mix. No two alternatives match the same text (a
 * `*` is matched once, bullet or emphasis alike) so a long run cannot
 * backtrack exponentially.
 */
const LEADER = String.raw`^(?:\s|>|[-+](?=\s)|\d{1,9}[.)](?=\s)|\[[ xX]\](?=\s)|\*|_)*`;
const KEYWORD = String.raw`(?:blocked[- ]by|depends[- ]on|requires)(?![A-Za-z0-9-])`;
const DEPENDENCY_LINE = new RegExp(LEADER + KEYWORD, "i");
const ANY_KEYWORD = /blocked|depends|requires/i;

// GitHub owner and repository names: letters, digits, `-`, `_` and `.`.
const NAME = String.raw`[A-Za-z0-9_.-]+`;
// `&#12;` is an HTML entity and `abc#12` an anchor, not references.
const BARE = String.raw`(?<![\w&/#])#(\d+)(?!\w)`;
const REFERENCE = new RegExp(
  [
    // A full issue or pull request URL on any host (GitHub Enterprise too).
    String.raw`https?://[A-Za-z0-9.-]+(?::\d+)?/(${NAME})/(${NAME})/(?:issues|pull)/(\d+)(?!\w)`,
    String.raw`(?<![\w./-])(${NAME})/(${NAME})#(\d+)(?!\w)`,
    BARE,
  ].join("|"),
  "g",
);
// Most lines name no repository; a single-alternative pattern scans them faster.
const BARE_REFERENCE = new RegExp(BARE, "g");

const FENCE = /^(?:\s|>)*(`{3,}|~{3,})(.*)$/;

/**
 * Dependency references in an issue body, deduplicated, in first-seen order.
 * Only lines that start with a dependency keyword count (`blocked-by`,
 * `blocked by`, `depends on`, `depends-on`, `requires`); fenced code blocks
 * and HTML comments are skipped, because issue templates and examples live there.
 */
export function parseDependencyReferences(body: string): IssueReference[] {
  return parseDependencyMentions(body).map(({ repo, number }) => ({ repo, number }));
}

/** Like {@link parseDependencyReferences}, keeping the line each reference came from. */
export function parseDependencyMentions(body: string): DependencyMention[] {
  const mentions: DependencyMention[] = [];
  if (!ANY_KEYWORD.test(body)) return mentions;
  for (const line of visibleLines(body)) {
    const keyword = DEPENDENCY_LINE.exec(line);
    if (keyword === null) continue;
    const trimmed = line.trim();
    for (const { repo, number } of referencesIn(line.slice(keyword[0].length))) {
      // Bodies name a handful of dependencies: a scan is cheaper than a keyed set.
      const key = repo?.toLowerCase() ?? null;
      if (!mentions.some((m) => m.number === number && (m.repo?.toLowerCase() ?? null) === key)) {
        mentions.push({ repo, number, line: trimmed });
      }
    }
  }
  return mentions;
}

function referencesIn(text: string): IssueReference[] {
  const found: IssueReference[] = [];
  const add = (repo: string | null, digits: string | undefined): void => {
    const number = Number(digits);
    if (Number.isSafeInteger(number) && number > 0) found.push({ repo, number });
  };
  if (!text.includes("/")) {
    for (const [, digits] of text.matchAll(BARE_REFERENCE)) add(null, digits);
    return found;
  }
  for (const [, urlOwner, urlRepo, urlNumber, owner, repo, qualifiedNumber, bareNumber] of text.matchAll(REFERENCE)) {
    if (urlNumber !== undefined) add(`${urlOwner ?? ""}/${urlRepo ?? ""}`, urlNumber);
    else if (qualifiedNumber !== undefined) add(`${owner ?? ""}/${repo ?? ""}`, qualifiedNumber);
    else add(null, bareNumber);
  }
  return found;
}

/** The body's lines outside fenced code blocks, with HTML comments removed. */
function visibleLines(body: string): string[] {
  const visible: string[] = [];
  let fence: string | null = null;
  let inComment = false;
  for (const raw of body.split(LINE_BREAK)) {
    if (fence !== null) {
      if (raw.includes(fence) && closesFence(raw, fence)) fence = null;
      continue;
    }
    const line: VisibleLine = inComment || raw.includes("<!--") ? withoutComments(raw, inComment) : { text: raw, inComment };
    inComment = line.inComment;
    if (!inComment && (line.text.includes("```") || line.text.includes("~~~"))) {
      const opening = FENCE.exec(line.text);
      const marker = opening?.[1];
      // A backtick fence's info string cannot contain backticks (CommonMark).
      if (marker !== undefined && !(marker.startsWith("`") && opening?.[2]?.includes("`") === true)) {
        fence = marker;
        continue;
      }
    }
    visible.push(line.text);
  }
  return visible;
}

const LINE_BREAK = /\r\n|\r|\n/;

/** A fence closes on a line holding only a run of its character at least as long. */
function closesFence(line: string, fence: string): boolean {
  const [, marker = "", rest = ""] = FENCE.exec(line) ?? [];
  return marker.startsWith(fence.slice(0, 1)) && marker.length >= fence.length && rest.trim() === "";
}

interface VisibleLine {
  readonly text: string;
  /** Whether an HTML comment is still open at the end of the line. */
  readonly inComment: boolean;
}

function withoutComments(raw: string, startsInComment: boolean): VisibleLine {
  let text = "";
  let inComment = startsInComment;
  let at = 0;
  while (at < raw.length) {
    const next = raw.indexOf(inComment ? "-->" : "<!--", at);
    if (next === -1) {
      if (!inComment) text += raw.slice(at);
      break;
    }
    if (!inComment) text += raw.slice(at, next);
    at = next + (inComment ? 3 : 4);
    inComment = !inComment;
  }
  return { text, inComment };
}
