import { terminalSafeLines } from "../dashboard/terminal-safe.ts";

/**
 * One worker's text shown to another worker's agent (a predicted conflict's
 * hunks: lines the other branch committed) and to the operator. Whoever
 * wrote those lines may be prompt-injected, and the agent reading them
 * follows instructions, so the text must stay visibly quoted: no line of it
 * may start a line of the message, however it breaks lines (CR, VT, FF, NEL,
 * U+2028/2029 are line breaks to some readers), nor carry escape sequences
 * or invisible characters to the terminal that shows the message, nor run
 * on without bound. A file path from a branch is shown as one token that
 * cannot break a line or hide what it is.
 */

/** How a quoted line starts: none of the quoted text can start a line of the message. */
export const QUOTE = "| ";

/** The longest quoted line, in code points (a longer one is cut with an ellipsis). */
export const QUOTED_LINE_CHARS = 300;

/**
 * `text` as quoted lines (`| ` + a terminal-safe line of at most
 * QUOTED_LINE_CHARS), every kind of line break a new quoted line; joined
 * with "\n", at most `maxChars` characters. When they do not all fit, the
 * last line says how many were left out.
 */
export function quotedLines(text: string, maxChars: number): string[] {
  const lines = terminalSafeLines(text);
  const out: string[] = [];
  let size = 0;
  for (const [index, line] of lines.entries()) {
    const quoted = `${QUOTE}${cut(line, QUOTED_LINE_CHARS)}`;
    const left = lines.length - index;
    // Room is kept for the note, unless this is the last line.
    const room = maxChars - (left > 1 ? NOTE_ROOM : 0);
    if (size + quoted.length > room) {
      const note = `${QUOTE}… (${String(left)} more line${left === 1 ? "" : "s"} cut)`;
      if (size + note.length <= maxChars) out.push(note);
      break;
    }
    out.push(quoted);
    size += quoted.length + 1;
  }
  return out;
}

/** Room for the "more lines cut" note and its line break. */
const NOTE_ROOM = 40;

/** Characters a path is shown bare with: letters, digits, marks and the usual punctuation of file names; no space, comma or quote. */
const PLAIN_PATH = /^[\p{L}\p{N}\p{M}._/@+~=#%-]+$/u;

/** Characters shown as escapes inside a quoted path: controls, formatting, lone surrogates, line and paragraph separators. */
const ESCAPED = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}"\\]/gu;

/** The longest path shown, in code points. */
export const SHOWN_PATH_CHARS = 200;

/**
 * A path from a branch, shown to a person or an agent as one token: as it
 * is when it is made of plain characters; otherwise in double quotes with
 * every control, formatting or line-breaking character (and `"`, `\`)
 * written as an escape (`\n`, `\u{1b}`), so a newline or an escape sequence
 * in a file name is seen for what it is and does nothing. Cut to
 * SHOWN_PATH_CHARS code points.
 */
export function shownPath(path: string): string {
  const short = cut(path, SHOWN_PATH_CHARS);
  if (PLAIN_PATH.test(short)) return short;
  return `"${short.replace(ESCAPED, escapeOne)}"`;
}

function escapeOne(character: string): string {
  if (character === '"' || character === "\\") return `\\${character}`;
  if (character === "\n") return "\\n";
  if (character === "\t") return "\\t";
  if (character === "\r") return "\\r";
  return `\\u{${(character.codePointAt(0) ?? 0).toString(16)}}`;
}

/** At most `max` code points (never half a character), the last one an ellipsis when cut. */
function cut(text: string, max: number): string {
  const characters = Array.from(text);
  return characters.length <= max ? text : `${characters.slice(0, max - 1).join("")}…`;
}
