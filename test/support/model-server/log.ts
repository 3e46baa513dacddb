/** One NDJSON line per request the server answered (README.md: "The log"). */
import type { Api } from "./turn.ts";

export interface LogEntry {
  readonly time: string;
  readonly api: Api | "other";
  readonly method: string;
  readonly path: string;
  readonly model: string | undefined;
  /** The step of the script answered (model responses since the steering message); undefined off a turn. */
  readonly step: number | undefined;
  /** The HTTP status sent; 0 when nothing was sent (`waiting`, `abandoned`). */
  readonly status: number;
  /**
   * What was answered: a text, a shell call, a scripted error or usage limit, JSON for a schema side call, a text for a
   * tool-less side call, a probe; or, for a
   * step with a wait, `waiting` when it arrived and `abandoned` when the client went away before the answer.
   */
  readonly answer: "text" | "shell" | "error" | "limit" | "json" | "side" | "probe" | "unknown" | "waiting" | "abandoned";
  readonly command?: string;
  /** The shell tool a `shell` answer called (the one the request offered). */
  readonly tool?: string;
  readonly resetsAt?: number;
  /** The usage reported in the answer; undefined when the answer reports none. */
  readonly usage: { readonly input: number; readonly output: number } | undefined;
  /** The steering user text, truncated. */
  readonly userText: string | undefined;
  /** Its `#model` lines. */
  readonly script: readonly string[];
}

const KEPT = 200;

/** Its head and tail: CLIs put their own context before the prompt, and the script is often at its end. */
export function truncate(value: string | undefined): string | undefined {
  if (value === undefined || value.length <= 2 * KEPT + 1) return value;
  return `${value.slice(0, KEPT)}…${value.slice(-KEPT)}`;
}
