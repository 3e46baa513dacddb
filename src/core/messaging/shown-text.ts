import { terminalSafe } from "../dashboard/terminal-safe.ts";

/**
 * Text from a worker (what it says with `cspace send _coordinator`, its
 * blocked reason, a failure's output) as it is shown to people: on one line,
 * with escape sequences removed whole and control and formatting characters
 * gone (terminal-safe.ts: they would move the cursor, write the clipboard,
 * hide a link or forge a line of the coordinator's own), and cut to `maxChars`
 * with a note of how much was left out. The log keeps the text as it came
 * (bounded where it came in: core/messaging/protocol.ts).
 */
export function shownText(text: string, maxChars: number): string {
  const flat = terminalSafe(text).replace(/ {2,}/g, " ").trim();
  if (flat.length <= maxChars) return flat;
  return `${flat.slice(0, maxChars)}… (${String(flat.length - maxChars)} more characters)`;
}

/** How much of a worker's text a progress line or a table cell shows. */
export const SHOWN_TEXT_CHARS = 200;
