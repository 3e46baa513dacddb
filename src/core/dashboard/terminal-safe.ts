/**
 * Text a worker wrote (its agent's last line, its events, a blocked reason),
 * made safe to print on the user's terminal. A prompt-injected agent can put
 * anything in its output, and a terminal obeys what it prints: OSC 52 writes
 * the clipboard, OSC 8 hides a link behind harmless words, CSI moves the
 * cursor and erases lines, a carriage return or backspaces draw over what
 * was printed, bidi overrides show text in another order than it is, and
 * some terminals answer queries by typing into the shell. So every escape
 * sequence is removed whole (its payload too), then every control and
 * invisible formatting character; what is left is shown as it is.
 *
 * Pure: the dashboard's model and the watch service both call it, and the
 * tests hold it to the invariant that its output has no such character.
 */

/**
 * The escape sequences, 7-bit (ESC …) and 8-bit (C1), each matched whole:
 * - OSC, DCS, SOS, PM, APC: an introducer, a payload, and a terminator
 *   (BEL, ESC \ or ST), or the end of the text when none comes;
 * - CSI: parameters, intermediates and a final byte;
 * - any other ESC with its intermediates and final byte (ESC c, ESC ( B).
 */
const ESCAPE_SEQUENCES = new RegExp(
  [
    String.raw`(?:\u001b[\]PX^_]|[\u0090\u0098\u009d\u009e\u009f])[\s\S]*?(?:\u0007|\u001b\\|\u009c|$)`,
    String.raw`(?:\u001b\[|\u009b)[\u0030-\u003f]*[\u0020-\u002f]*[\u0040-\u007e]?`,
    String.raw`\u001b[\u0020-\u002f]*[\u0030-\u007e]?`,
  ].join("|"),
  "g",
);

/**
 * Characters left after the sequences are gone that must not reach a
 * terminal: C0 and C1 controls and DEL (\p{Cc}), and format characters
 * (\p{Cf}: bidi embeddings, overrides and isolates, zero-width characters,
 * the invisible "tag" characters text can be smuggled in), and halves of
 * surrogate pairs left alone (\p{Cs}), which are no character at all.
 */
const UNSAFE_CHARACTERS = /[\p{Cc}\p{Cf}\p{Cs}]/gu;

/** Breaks of a line or of words: shown as one space, so the text around them stays apart and readable. */
const BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]+/gu;

/** The text with every escape sequence and every control or formatting character removed; line breaks and tabs become spaces. */
export function terminalSafe(text: string): string {
  return text.replace(ESCAPE_SEQUENCES, "").replace(BREAKS, " ").replace(UNSAFE_CHARACTERS, "");
}

/** The longest line the dashboard keeps of a worker's text (WatchFrame.lastLines). */
export const SAFE_LINE_MAX = 200;

/**
 * One line for a terminal: `terminalSafe`, runs of spaces made one, trimmed,
 * and at most `max` characters (counted as code points, so no character is
 * cut in half), the last one an ellipsis when it was cut.
 */
export function terminalSafeLine(text: string, max: number = SAFE_LINE_MAX): string {
  const line = terminalSafe(text).replace(/ {2,}/g, " ").trim();
  const characters = Array.from(line);
  if (characters.length <= max) return line;
  return `${characters.slice(0, Math.max(0, max - 1)).join("")}…`;
}

/** Every way a text can break a line, for a person, a terminal or a model: each one ends a line. */
const LINE_BREAKS = /\r\n|[\n\v\f\r\u0085\u2028\u2029]/u;

/**
 * The text's lines, each made terminal-safe: split at every kind of line
 * break first (so an unterminated escape swallows the rest of its own line,
 * never the lines after it), then each line's escape sequences removed whole
 * and its control and formatting characters removed; a tab becomes a space.
 * No line holds a line break of any kind.
 */
export function terminalSafeLines(text: string): string[] {
  return text.split(LINE_BREAKS).map((line) => line.replace(ESCAPE_SEQUENCES, "").replace(/\t/g, " ").replace(UNSAFE_CHARACTERS, ""));
}
