import { SHOWN_TEXT_CHARS, shownText } from "../messaging/shown-text.ts";
import { branchOf, type Failure } from "./vocabulary.ts";

/**
 * How a failure reads to the person who has to act on it: what failed, the
 * last lines of its output, and where to look next (`cspace logs issue-N`).
 * The output is the worker's (a verify command's, an agent's): each line is
 * flattened and cut (shownText), so it can never forge a line of cspace's own.
 */

/** How many of the output's last lines a progress line or the report shows. */
export const FAILURE_TAIL_LINES = 5;

/** The event's one line: `#3 failed: 2 of 2 attempts failed; the last: npm test exited 1 (cspace logs issue-3)`. */
export function failedLine(event: { readonly issue: number; readonly reason: string; readonly failure?: Failure | undefined }): string {
  const logs = event.failure === undefined ? "" : ` (${logsCommand(event.issue)})`;
  return `#${String(event.issue)} failed: ${shownText(event.reason, SHOWN_TEXT_CHARS)}${logs}`;
}

/** `cspace logs issue-3`: the agent's events, where a failure's story is told. */
export function logsCommand(issue: number): string {
  return `cspace logs ${branchOf(issue)}`;
}

/**
 * The lines under a failure: which command failed, then the last lines of its
 * output, each prefixed with `| ` (empty when the failure kept no output).
 */
export function failureTail(failure: Failure): string[] {
  const lines = (failure.output ?? "")
    .split(/\r?\n/)
    .map((line) => shownText(line, SHOWN_TEXT_CHARS))
    .filter((line) => line !== "");
  if (lines.length === 0) return [];
  const what = failure.command === null ? `the last lines of its output (${failure.kind})` : `the last lines of \`${shownText(failure.command, SHOWN_TEXT_CHARS)}\``;
  return [`${what}:`, ...lines.slice(-FAILURE_TAIL_LINES).map((line) => `| ${line}`)];
}

/** What the report says under its table for each failed issue: the reason, the end of what failed, and where to look. */
export function failureSection(rows: readonly { readonly issue: number; readonly status: string; readonly reason: string; readonly attempts: number; readonly failure?: Failure | null }[]): string[] {
  return rows
    .filter((row) => row.status === "failed")
    .flatMap((row) => [
      `#${String(row.issue)} failed: ${shownText(row.reason, SHOWN_TEXT_CHARS)}`,
      ...(row.failure == null ? [] : failureTail(row.failure)).map((line) => `  ${line}`),
      ...(row.attempts > 0 ? [`  its agent's log: ${logsCommand(row.issue)}`] : []),
    ]);
}
