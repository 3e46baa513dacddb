/**
 * `.dockerignore` matching, close enough to Docker's for hashing a build
 * context: one pattern a line, `#` comments, `!` re-includes, `*` and `?`
 * within a path segment, `**` across segments; a pattern matching a directory
 * excludes everything below it; the last matching pattern wins.
 */
export interface IgnoreRule {
  readonly negate: boolean;
  readonly regex: RegExp;
}

export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#")) continue;
    const negate = line.startsWith("!");
    const pattern = clean(negate ? line.slice(1).trim() : line);
    if (pattern === "") continue;
    rules.push({ negate, regex: new RegExp(`^${toRegex(pattern)}(?:/.*)?$`) });
  }
  return rules;
}

/** Whether a context-relative path (with "/" separators) is excluded. */
export function isIgnored(rules: readonly IgnoreRule[], relative: string): boolean {
  let ignored = false;
  for (const rule of rules) if (rule.regex.test(relative)) ignored = !rule.negate;
  return ignored;
}

function clean(pattern: string): string {
  const parts: string[] = [];
  for (const part of pattern.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return parts.join("/");
}

function toRegex(pattern: string): string {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern.charAt(i);
    if (char === "*" && pattern.charAt(i + 1) === "*") {
      // `**/` may also match nothing: `**/x` matches `x`.
      const slash = pattern.charAt(i + 2) === "/";
      out += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (char === "*") out += "[^/]*";
    else if (char === "?") out += "[^/]";
    else out += char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return out;
}
