import { z } from "zod";
import type { FullFrontMatter } from "./issue-file.ts";

/**
 * The schema of an issue file's front matter, for files the flat reader
 * cannot take. Its own module so zod loads only when such a file exists:
 * most projects never need it (issue 7: a small `plan` loaded all of zod).
 */
const frontMatterSchema = z.strictObject({
  title: z.string().trim().min(1, "a non-empty title"),
  state: z.enum(["open", "closed"]).default("open"),
  labels: z.array(z.string()).default([]),
  milestone: z.union([z.string(), z.number().transform(String)]).nullable().default(null),
  parent: z.number().int("an issue number, like 42").positive("an issue number, like 42").nullable().default(null),
});

export const validateFrontMatter: FullFrontMatter["validate"] = (raw) => {
  const parsed = frontMatterSchema.safeParse(raw);
  if (parsed.success) return { ok: true, fields: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "front matter"}: ${describeIssue(issue)}`),
  };
};

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") return `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
  return issue.message;
}
