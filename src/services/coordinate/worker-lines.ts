import { lstatUntrusted, readUntrustedTail, UntrustedFileError } from "../../adapters/fs/untrusted-dir.ts";
import type { WorkerEvent } from "../../core/agents/worker-status.ts";
import { terminalSafeLine } from "../../core/dashboard/terminal-safe.ts";
import { branchOf } from "../../core/coordinator/vocabulary.ts";
import { INSTANCE_FILES } from "../../core/messaging/layout.ts";
import { toEventLine, type EventLine } from "../workers/events.ts";
import { instancePaths } from "../workers/instance-files.ts";
import type { RecentEvent } from "./watch-types.ts";

/**
 * What the dashboard shows of each worker's own files: its agent's last line
 * and, for the `enter` panel, its recent events. A worker writes these files
 * (events.ndjson in `<run dir>/issue-N/`, mounted read-write in its
 * container), so a prompt-injected agent controls every byte: they are read
 * only through adapters/fs/untrusted-dir.ts (no link followed, regular files
 * only, a bounded tail), and every text is made terminal-safe
 * (core/dashboard/terminal-safe.ts) before it leaves this module.
 */

/** How much of the end of an events file is read: the last line is near the end; a flood of them is not read whole. */
const TAIL_BYTES = 64 * 1024;
/** The `enter` panel reads more, to have its events even after long ones. */
const RECENT_TAIL_BYTES = 256 * 1024;

/** Shown instead of a last line when the worker put something other than a regular file where its events belong. */
export const REFUSED_EVENTS = "(its events file is not a regular file: cspace did not read it)";

/** Each issue's agent's last line, read again only when its events file changed. */
export class WorkerLines {
  readonly #runDir: string;
  readonly #cache = new Map<number, { readonly key: string; readonly line: string | null }>();

  constructor(runDir: string) {
    this.#runDir = runDir;
  }

  /** The issues' last lines; an issue whose worker said nothing yet is left out. */
  async lastLines(issues: readonly number[]): Promise<Map<number, string>> {
    const lines = new Map<number, string>();
    for (const issue of issues) {
      const line = await this.#lastLine(issue);
      if (line !== null) lines.set(issue, line);
    }
    return lines;
  }

  async #lastLine(issue: number): Promise<string | null> {
    const dir = instancePaths(this.#runDir, branchOf(issue)).dir;
    try {
      const info = await lstatUntrusted(dir, INSTANCE_FILES.events);
      if (info === null) return null;
      if (!info.isFile()) return REFUSED_EVENTS;
      const key = `${String(info.ino)}:${String(info.size)}:${String(info.mtimeMs)}`;
      const cached = this.#cache.get(issue);
      if (cached?.key === key) return cached.line;
      const line = lastAgentLine(await tailLines(dir, INSTANCE_FILES.events, TAIL_BYTES)) ?? lastAgentLine(await tailLines(dir, INSTANCE_FILES.eventsRotated, TAIL_BYTES));
      this.#cache.set(issue, { key, line });
      return line;
    } catch (error) {
      if (error instanceof UntrustedFileError) return REFUSED_EVENTS;
      // Gone between two reads (the instance was removed): nothing to show, the next frame looks again.
      return null;
    }
  }
}

/** The last `limit` events of the issue's worker, oldest first, made safe for a terminal; none when it has no events yet. */
export async function recentWorkerEvents(runDir: string, issue: number, limit: number): Promise<RecentEvent[]> {
  const dir = instancePaths(runDir, branchOf(issue)).dir;
  let lines: EventLine[];
  try {
    lines = await tailLines(dir, INSTANCE_FILES.events, RECENT_TAIL_BYTES);
    if (lines.length < limit) lines = [...(await tailLines(dir, INSTANCE_FILES.eventsRotated, RECENT_TAIL_BYTES)), ...lines];
  } catch (error) {
    if (error instanceof UntrustedFileError) return [{ at: "", text: REFUSED_EVENTS }];
    throw error;
  }
  return lines.slice(-limit).map((line) => (line.event === null ? { at: "", text: terminalSafeLine(line.raw) } : { at: timeOf(line.event.ts), text: terminalSafeLine(described(line.event)) }));
}

/** The whole lines at the end of a file: the first line of a tail that starts mid-file is cut, so it is dropped. */
async function tailLines(dir: string, file: string, maxBytes: number): Promise<EventLine[]> {
  const text = await readUntrustedTail(dir, file, maxBytes);
  if (text === null) return [];
  const lines = text.split("\n");
  if (Buffer.byteLength(text) >= maxBytes) lines.shift();
  return lines.filter((line) => line.trim() !== "").map(toEventLine);
}

/** The agent's last words: the last line of the last thing it said, or the tool it last used. */
function lastAgentLine(lines: readonly EventLine[]): string | null {
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    const event = lines[i]?.event;
    if (event?.source !== "agent" || typeof event.text !== "string") continue;
    const said = event.text
      .split("\n")
      .map((line) => terminalSafeLine(line))
      .filter((line) => line !== "")
      .at(-1);
    if (said === undefined) continue;
    return terminalSafeLine(event.type === "text" || event.type === "result" ? said : `${event.type}: ${said}`);
  }
  return null;
}

/** "agent tool: Bash", "supervisor exited: code 0": where it came from, what it was, what it said. */
function described(event: WorkerEvent): string {
  const text = typeof event.text === "string" && event.text !== "" ? event.text : event.data === undefined ? "" : JSON.stringify(event.data);
  return `${event.source} ${event.type}${text === "" ? "" : `: ${text}`}`;
}

/** The event's time as ISO 8601, or "" when the worker wrote something else there. */
function timeOf(ts: unknown): string {
  const time = typeof ts === "string" ? Date.parse(ts) : Number.NaN;
  return Number.isNaN(time) ? "" : new Date(time).toISOString();
}
