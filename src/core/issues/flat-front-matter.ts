import type { IssueState } from "./issue.ts";

/** The front matter fields of an issue file, once read and validated. */
export interface IssueFields {
  readonly title: string;
  readonly state: IssueState;
  readonly labels: readonly string[];
  readonly milestone: string | null;
  /** `parent: 42`: the issue this one is a sub-issue of (cspace coordinate --parent 42). */
  readonly parent: number | null;
}

type Key = keyof IssueFields;
const LINE = /^(title|state|labels|milestone|parent):(?: (.*))?$/;
// A parent is an issue number, written plainly: anything else goes to the full parser, which says what is wrong.
const ISSUE_NUMBER = /^[1-9][0-9]{0,8}$/;
// YAML forbids most control characters and gives tabs and a BOM meanings of their own.
// eslint-disable-next-line no-control-regex -- control characters are exactly what sends a file to the full parser
const UNUSUAL = /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f\ufeff\ufffe\uffff]/;
// Printable ASCII and line breaks: most front matter, checked by a cheaper pattern first.
const PLAIN_ASCII = /^[\u0020-\u007e\n\r]*$/;
// A plain scalar starting like this is not plainly a string: an indicator, a number, a sign.
const PLAIN_START = /^[-?:,[\]{}#&*!|>'"%@`+.0-9]/;
// Words the YAML core schema reads as booleans or null (and YAML 1.1's, to be safe).
const NOT_TEXT = /^(?:~|null|true|false|yes|no|on|off|y|n)$/i;

/**
 * Reads the front matter issues almost always have: one `key: value` per
 * line, plain or quoted text, `labels: [a, b]`. Returns null for anything else
 * (block lists, comments, escapes, anchors, values YAML reads as numbers or
 * booleans, unknown or repeated keys, invalid values): the full YAML parser
 * then reads it and reports what is wrong. Whatever this returns, the full
 * parser returns too (test/unit/flat-front-matter.property.test.ts).
 */
export function readFlatFrontMatter(block: string): IssueFields | null {
  if (!PLAIN_ASCII.test(block) && UNUSUAL.test(block)) return null;
  const seen = new Set<Key>();
  let title: string | null = null;
  let state: IssueState = "open";
  let labels: readonly string[] = [];
  let milestone: string | null = null;
  let parent: number | null = null;
  for (const raw of block.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") continue;
    const match = LINE.exec(line);
    const key = match?.[1] as Key | undefined;
    if (key === undefined || seen.has(key)) return null;
    seen.add(key);
    const value = (match?.[2] ?? "").trim();
    switch (key) {
      case "title": {
        const text = scalar(value);
        if (text === null || text.trim() === "") return null;
        title = text.trim();
        break;
      }
      case "state": {
        const text = scalar(value);
        if (text !== "open" && text !== "closed") return null;
        state = text;
        break;
      }
      case "labels": {
        const list = flowSequence(value);
        if (list === null) return null;
        labels = list;
        break;
      }
      case "milestone": {
        if (value === "" || value === "~" || value === "null") {
          milestone = null;
          break;
        }
        const text = scalar(value);
        if (text === null) return null;
        milestone = text;
        break;
      }
      case "parent": {
        if (!ISSUE_NUMBER.test(value)) return null;
        parent = Number(value);
        break;
      }
    }
  }
  return title === null ? null : { title, state, labels, milestone, parent };
}

/** A single-line scalar that is certainly text, or null. */
function scalar(value: string): string | null {
  if (value.startsWith('"')) {
    // Without backslashes a double-quoted scalar is its content as written.
    const inner = value.slice(1, -1);
    return value.length >= 2 && value.endsWith('"') && !inner.includes('"') && !inner.includes("\\") ? inner : null;
  }
  if (value.startsWith("'")) {
    const inner = value.slice(1, -1);
    return value.length >= 2 && value.endsWith("'") && !inner.replaceAll("''", "").includes("'") ? inner.replaceAll("''", "'") : null;
  }
  return plain(value, false);
}

/** An unquoted scalar that YAML reads as exactly this text, or null. */
function plain(value: string, inFlow: boolean): string | null {
  if (value === "" || PLAIN_START.test(value) || NOT_TEXT.test(value)) return null;
  if (value.includes(" #") || value.includes(": ") || value.endsWith(":")) return null;
  if (inFlow && /[,[\]{}:#]/.test(value)) return null;
  return value;
}

/** `[a, "b c", 'd']` → its items when every one is certainly text, else null. */
function flowSequence(value: string): string[] | null {
  if (!value.startsWith("[") || !value.endsWith("]")) return null;
  const inner = value.slice(1, -1).trim();
  if (inner === "") return [];
  const items: string[] = [];
  for (const part of inner.split(",")) {
    const item = part.trim();
    const text = item.startsWith('"') || item.startsWith("'") ? scalar(item) : plain(item, true);
    // A quoted item holding a comma was split above: its halves fail to parse here.
    if (text === null) return null;
    items.push(text);
  }
  return items;
}
