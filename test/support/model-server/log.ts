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
  readonly status: number;
  /** What was answered: a text, a shell call, a scripted error or usage limit, JSON for a side call, a probe. */
  readonly answer: "text" | "shell" | "error" | "limit" | "json" | "probe" | "unknown";
  readonly command?: string;
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
