/**
 * The helpers a template may call, besides handlebars' own `if`, `unless`,
 * `each` and `with`. Kept small: each one exists because a built-in template
 * needs it. The validator checks calls against `params` before anything
 * renders; the functions still accept anything, since a user template can
 * pass a null optional field.
 */

/** What a parameter must be, as far as the catalogue can tell. */
export type ParamKind = "any" | "value" | "list";

export interface HelperSpec {
  /** Required parameters, in order; `optional` may follow. */
  readonly params: readonly ParamKind[];
  readonly optional?: readonly ParamKind[];
  /** How it is called, for messages. */
  readonly usage: string;
  readonly fn: (...args: unknown[]) => unknown;
}

export const helpers = {
  join: {
    params: ["list"],
    optional: ["value"],
    usage: '{{join issue.labels ", "}}',
    fn: (list: unknown, separator: unknown) => asList(list).map(text).join(typeof separator === "string" ? separator : ", "),
  },
  eq: {
    params: ["any", "any"],
    usage: '{{#if (eq failure.kind "verify")}}…{{/if}}',
    fn: (left: unknown, right: unknown) => left === right,
  },
  bullets: {
    params: ["list"],
    usage: "{{bullets paths}}",
    // One "- item" line each; code-like items (paths, branches) in backticks.
    fn: (list: unknown) => asList(list).map((item) => `- \`${text(item)}\``).join("\n"),
  },
  fence: {
    params: ["value"],
    optional: ["value"],
    usage: '{{fence failure.output "text"}}',
    fn: (content: unknown, language: unknown) => fence(text(content), typeof language === "string" ? language : ""),
  },
} as const satisfies Readonly<Record<string, HelperSpec>>;

export type HelperName = keyof typeof helpers;

/** Handlebars' own helpers that templates may use; `lookup` and `log` are left out (dynamic lookups escape validation). */
export const builtinBlockHelpers = ["if", "unless", "each", "with"] as const;

export function isHelperName(name: string): name is HelperName {
  return Object.hasOwn(helpers, name);
}

/**
 * A fenced code block around text that may itself hold fences: the fence is
 * one backtick longer than the longest run inside (CommonMark's rule), so
 * an output tail cannot end the block early.
 */
export function fence(content: string, language = ""): string {
  const longest = Math.max(0, ...Array.from(content.matchAll(/`+/g), (match) => match[0].length));
  const marks = "`".repeat(Math.max(3, longest + 1));
  const body = content.endsWith("\n") ? content : `${content}\n`;
  return `${marks}${language}\n${body}${marks}`;
}

function asList(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

function text(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}
