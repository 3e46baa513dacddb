import path from "node:path";
import { openUntrustedFile } from "../../../adapters/fs/untrusted-dir.ts";
import type { AgentEventSeen } from "../../../core/coordinator-runtime/ports.ts";
import { toEventLine } from "../../workers/events.ts";
import type { InstancePaths } from "../../workers/instance-files.ts";
import { pathsOf, type PoolContext } from "./context.ts";

/** How much of a log's end is read: a few hundred events, far more than the stall watch needs to find the agent's last. */
const TAIL_BYTES = 64 * 1024;

/**
 * The last event the instance's agent wrote (source `agent`: not the
 * supervisor's own, nor a message delivered to the agent, which the stall
 * watch's own nudge would be), read from the end of events.ndjson, then of
 * events.1.ndjson. The file is the worker's to write: opened without
 * following links, a regular file only (adapters/fs/untrusted-dir.ts), and
 * only its tail is read. Null when there is none or it cannot be read.
 */
export async function lastAgentEventIn(context: PoolContext, instance: string): Promise<AgentEventSeen | null> {
  const paths = pathsOf(context, instance);
  for (const file of [paths.events, paths.eventsRotated]) {
    const found = await lastAgentEventOf(paths, file).catch(() => null);
    if (found !== null) return found;
  }
  return null;
}

async function lastAgentEventOf(paths: InstancePaths, file: string): Promise<AgentEventSeen | null> {
  const handle = await openUntrustedFile(paths.dir, path.relative(paths.dir, file));
  if (handle === null) return null;
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString("utf8").split("\n");
    for (let i = lines.length - 1; i >= 0; i -= 1) {
      const event = toEventLine(lines[i] ?? "").event;
      if (event?.source === "agent") return { ts: event.ts, type: event.type, text: event.text ?? null };
    }
    return null;
  } finally {
    await handle.close();
  }
}
