/** A small client for the model server tests: JSON posts and an SSE parser over real HTTP. */
import type { RunningModelServer } from "../../support/model-server/index.ts";

export interface SseEvent {
  readonly event: string | undefined;
  readonly data: Record<string, unknown>;
}

export interface Posted {
  readonly status: number;
  readonly headers: Headers;
  readonly contentType: string;
  readonly text: string;
}

export async function post(server: RunningModelServer, path: string, body: unknown): Promise<Posted> {
  const response = await fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, contentType: response.headers.get("content-type") ?? "", text: await response.text() };
}

export function json(posted: Posted): Record<string, unknown> {
  return JSON.parse(posted.text) as Record<string, unknown>;
}

/** The events of an SSE body: `event:` lines name them, `data:` lines carry JSON, a blank line ends each. */
export function sse(posted: Posted): SseEvent[] {
  if (!posted.contentType.startsWith("text/event-stream")) throw new Error(`not an event stream (${posted.contentType}): ${posted.text}`);
  const events: SseEvent[] = [];
  for (const block of posted.text.split(/\r?\n\r?\n/)) {
    if (block.trim() === "") continue;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).trim());
    }
    events.push({ event, data: JSON.parse(data.join("\n")) as Record<string, unknown> });
  }
  return events;
}
