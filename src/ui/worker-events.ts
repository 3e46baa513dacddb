import type { WorkerEvent } from "../core/agents/worker-status.ts";
import type { Paint, Tone } from "./tone.ts";

/**
 * One events.ndjson line for people: local time, source, type, text. Long
 * texts keep their first lines; `--json` shows the raw line instead.
 */

const MAX_TEXT_LINES = 20;

export function formatEvent(event: WorkerEvent, paint: Paint): string {
  const time = timeOf(event.ts);
  const source = event.source.padEnd(10);
  const type = event.type.padEnd(16);
  const text = textOf(event);
  const indent = " ".repeat(time.length + 2 + 10 + 1 + 16 + 1);
  const [first = "", ...rest] = text.split("\n");
  const shown = rest.length > MAX_TEXT_LINES ? [...rest.slice(0, MAX_TEXT_LINES), `… ${String(rest.length - MAX_TEXT_LINES)} more lines`] : rest;
  const body = [first, ...shown.map((line) => `${indent}${line}`)].join("\n");
  return `${paint("muted", time)}  ${paint(toneOf(event), source)} ${type} ${body}`.trimEnd();
}

/** A line that is not an event (a torn write, another tool's line): shown as it is. */
export function formatRawLine(raw: string, paint: Paint): string {
  return paint("muted", raw);
}

function textOf(event: WorkerEvent): string {
  if (event.text !== undefined && event.text !== "") return event.text;
  if (event.data === undefined) return "";
  const data = JSON.stringify(event.data);
  return data.length > 200 ? `${data.slice(0, 200)}…` : data;
}

function toneOf(event: WorkerEvent): Tone {
  if (event.source === "message") return "heading";
  if (event.source === "supervisor") return event.type === "exited" || event.type === "signal" ? "warn" : "muted";
  return event.type === "stderr" || event.type === "error" ? "bad" : "good";
}

/** HH:MM:SS.mmm in local time; the date too when it is not today. */
function timeOf(ts: string): string {
  const date = new Date(ts);
  if (Number.isNaN(date.getTime())) return ts;
  const pad = (n: number, width = 2): string => String(n).padStart(width, "0");
  const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
  const today = new Date();
  const sameDay = date.getFullYear() === today.getFullYear() && date.getMonth() === today.getMonth() && date.getDate() === today.getDate();
  return sameDay ? clock : `${String(date.getFullYear())}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${clock}`;
}
