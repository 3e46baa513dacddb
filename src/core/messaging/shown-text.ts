/**
 * Text from a worker (what it says with `cspace send _coordinator`, its
 * blocked reason, a failure's output) as it is shown to people: on one line,
 * with control characters (escape sequences that would move the cursor or
 * forge a line of the coordinator's own) made spaces, and cut to `maxChars`
 * with a note of how much was left out. The log keeps the text as it came
 * (bounded where it came in: core/messaging/protocol.ts).
 */
export function shownText(text: string, maxChars: number): string {
  // eslint-disable-next-line no-control-regex -- the point is to remove them
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ").trim();
  if (flat.length <= maxChars) return flat;
  return `${flat.slice(0, maxChars)}… (${String(flat.length - maxChars)} more characters)`;
}

/** How much of a worker's text a progress line or a table cell shows. */
export const SHOWN_TEXT_CHARS = 200;
