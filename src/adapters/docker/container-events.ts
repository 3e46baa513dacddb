import { Readable } from "node:stream";
import type Docker from "dockerode";

/** The engine's container events that mean "not running any more". */
const STOPPED_ACTIONS = ["die", "stop", "kill", "destroy", "oom"];

/**
 * Follows GET /events for containers with `labels`, calling `onStopped` with
 * each stopped container's labels (the engine puts them in the event's actor
 * attributes). The stream is newline-delimited JSON; a chunk may end mid-line.
 */
export async function watchStoppedContainers(
  docker: Docker,
  labels: Readonly<Record<string, string>>,
  onStopped: (labels: Readonly<Record<string, string>>) => void,
): Promise<() => void> {
  const filters = { type: ["container"], event: STOPPED_ACTIONS, label: Object.entries(labels).map(([key, value]) => `${key}=${value}`) };
  const stream = await docker.getEvents({ filters: JSON.stringify(filters) });
  // The engine's answer is an HTTP response, which is a Readable; anything else could not be closed.
  if (!(stream instanceof Readable)) throw new Error("the engine's event stream is not a readable stream");
  let partial = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    partial += chunk;
    const lines = partial.split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      const attributes = attributesOf(line);
      if (attributes !== null) onStopped(attributes);
    }
  });
  // A broken stream (the engine restarting) ends the watch; the caller's own probes carry on.
  stream.on("error", () => undefined);
  return () => {
    stream.destroy();
  };
}

function attributesOf(line: string): Readonly<Record<string, string>> | null {
  if (line.trim() === "") return null;
  try {
    const event = JSON.parse(line) as { Actor?: { Attributes?: Record<string, unknown> } };
    const attributes = event.Actor?.Attributes ?? {};
    return Object.fromEntries(Object.entries(attributes).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
  } catch {
    return null;
  }
}
