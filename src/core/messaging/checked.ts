import * as z from "zod/mini";
import { en } from "zod/locales";

/**
 * The host's check of a value a worker sent against a zod schema, and the
 * words for what is wrong. zod/mini, not zod: this module is on the paths
 * people run often (`list`, `status`, `send` check worker replies with it),
 * and zod's classic API is one 755 KB chunk that cannot be tree-shaken,
 * where zod/mini keeps only the checks used. Any zod schema, classic or mini,
 * can be checked here: both are built on zod's core.
 */

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/**
 * zod/mini loads no locale (its message would be "Invalid input"), and a
 * global z.config() would change every other schema's words too: English is
 * given to each check instead, the words zod's classic API uses.
 */
const ENGLISH: z.core.ParseContext<z.core.$ZodIssue> = { error: en().localeError };

/** The first problem zod found, as `report.outcome: expected one of …`: enough to fix the sender. */
export function checked<T>(schema: z.core.$ZodType<T>, value: unknown, root: string): Checked<T> {
  const result = z.safeParse(schema, value, ENGLISH);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, message: describeIssues(result.error, root) };
}

/**
 * zod's words quote what was sent (every unknown key, for one), and what was sent is the worker's: the
 * description goes back to it and into a notice, so each part and the whole are bounded.
 */
const MAX_ISSUE_CHARS = 160;
const MAX_DESCRIPTION_CHARS = 400;

export function describeIssues(error: { readonly issues: readonly z.core.$ZodIssue[] }, root: string): string {
  const issues = error.issues.slice(0, 3).map((issue) => clip(`${[root, ...issue.path.map(String)].join(".")}: ${issue.message}`, MAX_ISSUE_CHARS));
  const more = error.issues.length > 3 ? ` (and ${String(error.issues.length - 3)} more)` : "";
  return clip(`${issues.join("; ")}${more}`, MAX_DESCRIPTION_CHARS);
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
