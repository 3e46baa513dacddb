/**
 * A desktop notification through the terminal, for a run that needs a person
 * or ended (core/notify): the view writes it to a terminal it is attached to.
 *
 * Which sequence: OSC 777 (`ESC ] 777 ; notify ; title ; body BEL`) where that
 * is the terminal's convention — rxvt-unicode (its notify extension), foot, and
 * VTE terminals (GNOME Terminal, Tilix…; `VTE_VERSION` set) — and OSC 9
 * (`ESC ] 9 ; text BEL`) everywhere else (iTerm2, WezTerm, kitty, Ghostty,
 * Windows Terminal; a terminal that knows neither ignores it). One of the
 * two, never both, so no terminal shows it twice. Then the bell (BEL), which
 * every terminal and tmux pass on.
 *
 * The text may carry a worker's words (a blocked reason): every control
 * character is removed first (ESC, BEL and the C1 string terminator would end
 * the sequence early or start another), and it is cut to a line.
 */

export interface TerminalNotice {
  /** The issue it concerns; null for the whole run. */
  readonly issue: number | null;
  readonly reason: string;
}

/** What decides the sequence: the terminal's own variables. */
export interface TerminalKind {
  readonly TERM?: string | undefined;
  readonly TERM_PROGRAM?: string | undefined;
  readonly VTE_VERSION?: string | undefined;
}

const ESC = "\u001b";
const BEL = "\u0007";
const TITLE = "cspace";
const MAX_BODY_CHARS = 200;

/** The bytes to write to the terminal: the notification sequence, then the bell. */
export function terminalNotification(notice: TerminalNotice, terminal: TerminalKind = process.env): string {
  const body = sanitized(`${notice.issue === null ? "" : `#${String(notice.issue)}: `}${notice.reason}`);
  if (usesOsc777(terminal)) return `${ESC}]777;notify;${TITLE};${body}${BEL}${BEL}`;
  // OSC 9 text that starts with a digit and ";" is a ConEmu/Windows Terminal sub-command: "cspace: " keeps it text.
  return `${ESC}]9;${TITLE}: ${body}${BEL}${BEL}`;
}

/** rxvt-unicode, foot and VTE terminals take OSC 777 notifications. */
export function usesOsc777(terminal: TerminalKind): boolean {
  const term = terminal.TERM ?? "";
  return term.startsWith("rxvt") || term.startsWith("foot") || (terminal.VTE_VERSION ?? "") !== "";
}

function sanitized(text: string): string {
  // eslint-disable-next-line no-control-regex -- the point is to remove them
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ").replace(/ {2,}/g, " ").trim();
  return flat.length <= MAX_BODY_CHARS ? flat : `${flat.slice(0, MAX_BODY_CHARS - 1)}…`;
}
