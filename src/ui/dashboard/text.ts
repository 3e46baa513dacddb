/**
 * Cutting text to a terminal's width. Titles come from the forge and agents'
 * lines from workers, so anything shown is first made one line with no control
 * characters (an escape sequence in an issue title must not move the cursor),
 * then cut with "…" so a line never wraps. Widths count code points: a wide
 * character (CJK, emoji) may take two cells, and ink's own truncation
 * (`wrap: "truncate-end"` on every line) is the backstop for those.
 */

// eslint-disable-next-line no-control-regex -- the point is to remove them
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

export function oneLine(text: string): string {
  return text.replace(CONTROL, " ").trim();
}

export function width(text: string): number {
  return Array.from(text).length;
}

/** `text` in at most `columns` cells: cut with "…" when longer; "" when there is no room. */
export function fit(text: string, columns: number): string {
  if (columns <= 0) return "";
  const chars = Array.from(text);
  if (chars.length <= columns) return text;
  return `${chars.slice(0, columns - 1).join("")}…`;
}

/** `fit`, then padded with spaces to exactly `columns`, so columns line up. */
export function cell(text: string, columns: number): string {
  const shown = fit(text, columns);
  return shown + " ".repeat(Math.max(0, columns - width(shown)));
}

/** "42s", "3m05s", "2h10m". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${String(s)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${String(m)}m${String(s % 60).padStart(2, "0")}s` : `${String(Math.floor(m / 60))}h${String(m % 60).padStart(2, "0")}m`;
}

/** "~8m left" reads better than "~8m00s left". */
export function roughDuration(ms: number): string {
  const m = Math.max(0, Math.round(ms / 60_000));
  if (m < 1) return "<1m";
  return m < 60 ? `${String(m)}m` : `${String(Math.floor(m / 60))}h${String(m % 60).padStart(2, "0")}m`;
}

export function usd(amount: number): string {
  return `$${amount.toFixed(2)}`;
}
