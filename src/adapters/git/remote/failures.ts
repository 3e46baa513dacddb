import { ExternalError, type CspaceError } from "../../../core/errors.ts";
import { ForgeUnauthorizedError, ForgeUnavailableError } from "../../../core/forge/errors.ts";

/**
 * What a failed git call against the remote means, as a typed error. Git
 * reports HTTP failures only as text, so this is the one place that reads
 * it; callers branch on the types. Patterns are git's own wording (LC_ALL=C
 * is set by ./run-git.ts).
 */
export function remoteFailure(what: string, remote: string, stderr: string, secrets: readonly string[]): CspaceError {
  const said = scrub(lastLines(stderr), secrets);
  const message = `git could not ${what} at ${remote}: ${said}`;
  // 401: after the server refused the header, git asked for a username and was not allowed to prompt.
  if (/could not read (?:Username|Password)|Authentication failed|returned error: 401|HTTP 401/i.test(stderr)) {
    return new ForgeUnauthorizedError(`${remote} refused the token (HTTP 401) when git tried to ${what}: ${said}`, {
      hint: "The token was refused (wrong, expired or revoked): set GH_TOKEN or GITHUB_TOKEN, or run `gh auth login`.",
    });
  }
  if (/returned error: 403|HTTP 403|Permission to .* denied|permission denied/i.test(stderr)) {
    return new ForgeUnauthorizedError(`${remote} forbade git to ${what} (HTTP 403): ${said}`, { hint: "The token lacks a permission: pushing needs contents read/write on the repository." });
  }
  if (/Could not resolve host|Failed to connect|Connection refused|Connection timed out|Operation timed out|returned error: 5\d\d|HTTP 5\d\d|early EOF|remote end hung up/i.test(stderr)) {
    return new ForgeUnavailableError(message, { hint: `Check that ${remote} is reachable.` });
  }
  if (/does not appear to be a git repository|repository '.*' not found|returned error: 404|Repository not found/i.test(stderr)) {
    return new ExternalError(message, { hint: `Check that ${remote} exists and that the token can see it.` });
  }
  return new ExternalError(message);
}

/** Replaces every secret in `text`; applied to anything git printed before it is shown. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret !== "") out = out.split(secret).join("***");
  return out;
}

/** Git's last words are the reason; progress lines before them are noise. */
function lastLines(stderr: string): string {
  const lines = stderr.split("\n").map((line) => line.trim()).filter((line) => line !== "");
  return lines.length === 0 ? "(git printed nothing)" : lines.slice(-3).join(" / ");
}
