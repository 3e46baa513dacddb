import { InternalError, UserError } from "../errors.ts";

/**
 * Instance names end up in container names, socket file names, branch-like
 * paths and hostnames, so they are held to a DNS-label-like rule that is safe
 * in all of them (no "/", no "..", no shell metacharacters).
 */
export const INSTANCE_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** The coordinator's own socket name; no worker may take it. */
export const COORDINATOR_INSTANCE = "_coordinator";

export const INSTANCE_NAME_RULE =
  'an instance name is 1 to 63 characters: lowercase letters, digits, ".", "_" or "-", starting with a letter or digit (like "issue-12")';

/** Returns the name unchanged when valid; otherwise a UserError saying what was received and the rule. */
export function validateInstanceName(raw: string): string {
  if (raw === COORDINATOR_INSTANCE) {
    throw new UserError(`instance name "${COORDINATOR_INSTANCE}" is reserved for the coordinator`, {
      hint: `pick another name; ${INSTANCE_NAME_RULE}`,
    });
  }
  if (!INSTANCE_NAME_PATTERN.test(raw)) {
    throw new UserError(`invalid instance name ${quoteForMessage(raw)}: ${INSTANCE_NAME_RULE}`);
  }
  const branchRule = brokenBranchRule(raw);
  if (branchRule !== null) {
    throw new UserError(`invalid instance name ${quoteForMessage(raw)}: it is also the workspace's git branch, and ${branchRule}`, {
      hint: `pick another name; ${INSTANCE_NAME_RULE}`,
    });
  }
  return raw;
}

/**
 * The rules of `git check-ref-format` that INSTANCE_NAME_PATTERN leaves
 * open: its character set already excludes "/", "@", "~", "^", ":", "?",
 * "*", "[", "\\", spaces and control characters, and a leading ".".
 */
function brokenBranchRule(name: string): string | null {
  if (name.includes("..")) return 'a branch name may not contain ".."';
  if (name.endsWith(".lock")) return 'a branch name may not end with ".lock"';
  if (name.endsWith(".")) return 'a branch name may not end with "."';
  return null;
}

/** `issue-12`: the instance (and branch) name cspace uses for an issue. */
export function issueInstanceName(issue: number): string {
  if (!Number.isSafeInteger(issue) || issue < 1) {
    throw new UserError(`invalid issue number ${quoteForMessage(String(issue))}: expected a whole number ≥ 1`);
  }
  return `issue-${issue}`;
}

/**
 * `cspace-<projectId>-<instance>`. The project id carries a hash of the
 * project directory, so two checkouts with the same project name never share
 * a container name. Characters Docker refuses in a name are replaced by "-"
 * (a project named after a directory can contain anything).
 */
export function containerNameFor(projectId: string, instance: string): string {
  if (instance !== COORDINATOR_INSTANCE && !INSTANCE_NAME_PATTERN.test(instance)) {
    throw new InternalError(`containerNameFor called with an unvalidated instance name ${quoteForMessage(instance)}`);
  }
  const project = projectId.replace(/[^a-zA-Z0-9_.-]/g, "-");
  if (project === "") throw new InternalError("containerNameFor called with an empty project id");
  return `cspace-${project}-${instance}`;
}

const SHOWN_MAX = 40;

/**
 * A received value safe to print in a message: quoted, control and non-ASCII
 * characters written as \u escapes (so look-alike letters and terminal escape
 * sequences are visible, not rendered), long values cut with their length.
 */
export function quoteForMessage(raw: string): string {
  const chars = Array.from(raw);
  const cut = chars.length > SHOWN_MAX ? chars.slice(0, SHOWN_MAX) : chars;
  const escaped = cut.map(escapeChar).join("");
  return chars.length > SHOWN_MAX ? `"${escaped}…" (${chars.length} characters)` : `"${escaped}"`;
}

function escapeChar(char: string): string {
  if (char === '"') return '\\"';
  if (char === "\\") return "\\\\";
  const code = char.codePointAt(0) ?? 0;
  if (code >= 0x20 && code < 0x7f) return char;
  // Astral characters become a surrogate pair, as JSON would write them.
  return Array.from({ length: char.length }, (_, i) => `\\u${char.charCodeAt(i).toString(16).padStart(4, "0")}`).join("");
}
