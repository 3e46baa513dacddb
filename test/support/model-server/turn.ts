/**
 * What the server reads from any API's request (the turn it is asked for) and
 * what it answers, independent of the wire format. Pure.
 */
import type { Usage } from "./script.ts";

export type Api = "anthropic" | "openai" | "gemini";

export interface Turn {
  readonly model: string;
  readonly stream: boolean;
  /** The latest user message with text of its own (not a tool result): the script is read from it. */
  readonly userText: string | undefined;
  /** Model responses since that message: which step of its script is asked for. */
  readonly step: number;
  /** The name of the shell tool the request offers, if it offers one this server knows. */
  readonly shellTool: string | undefined;
  /** Whether the request offers any tool: one that offers none is a CLI's side call (a title, a summary), not a step. */
  readonly offersTools: boolean;
}

export type Reply =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "shell"; readonly tool: string; readonly command: string };

export interface Answer {
  readonly reply: Reply;
  readonly usage: Usage;
}

/** An HTTP answer written as a whole (errors, JSON bodies). */
export interface Plain {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

/** One message of a conversation, as far as steering needs it. */
export type Entry = { readonly role: "user"; readonly text: string } | { readonly role: "model" } | { readonly role: "other" };

/**
 * The user text that steers this request and the step it asks for. The script
 * is read from the latest user message that has `#model` lines (a CLI's own
 * user messages, such as reminders or environment context, have none and do
 * not restart the script); without one, from the latest user text, which then
 * has no script. The step is the number of model responses since that message.
 */
export function locate(entries: readonly Entry[], hasScript: (text: string) => boolean): { userText: string | undefined; step: number } {
  let at = -1;
  let fallback = -1;
  entries.forEach((entry, index) => {
    if (entry.role !== "user") return;
    fallback = index;
    if (hasScript(entry.text)) at = index;
  });
  const chosen = at === -1 ? fallback : at;
  const entry = entries[chosen];
  return {
    userText: entry?.role === "user" ? entry.text : undefined,
    step: entries.slice(chosen + 1).filter((later) => later.role === "model").length,
  };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

export function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** The first tool name of `offered` that is one of `known`, in the order the request lists them. */
export function pickTool(offered: readonly string[], known: readonly string[]): string | undefined {
  return offered.find((name) => known.includes(name));
}

/** A stable, short id for one reply, so a retried request gets the same ids. */
export function replyId(prefix: string, step: number, salt: string): string {
  let hash = 2166136261;
  for (const char of `${salt}|${String(step)}`) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619) >>> 0;
  return `${prefix}${hash.toString(16).padStart(8, "0")}${String(step)}`;
}

/**
 * A user message's text from its text blocks (parts), as steering reads it.
 * A CLI may put the prompt into one message twice: Claude Code 2.1.332, when
 * a turn ended in an API error (a usage limit) and the session is resumed
 * with the prompt sent again, drops its synthetic error answer and merges the
 * two user messages into one, each prompt a block of its own. Only the
 * latest block with `#model` lines steers (the earlier one never got an
 * answer); blocks without any (a CLI's context) are kept.
 */
export function userTextOfBlocks(texts: readonly string[], hasScript: (text: string) => boolean): string | undefined {
  if (texts.length === 0) return undefined;
  const last = texts.findLastIndex(hasScript);
  return texts.filter((text, index) => index >= last || !hasScript(text)).join("\n");
}
