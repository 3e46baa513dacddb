import { createInterface } from "node:readline";
import { isObject } from "../../core/agents/presets/json-line.ts";
import type { ScriptedInputType } from "../../core/agents/presets/scripted.ts";

export interface InboxLine {
  readonly type: ScriptedInputType;
  readonly text: string;
}

/**
 * The scripted agent's stdin: lines are read as they come, whatever the
 * agent is doing, and queued in order, so a message sent during a `sleep`
 * is neither lost nor reordered. `next()` waits for the next line, or gives
 * null once stdin has ended and nothing is left.
 */
export class Inbox {
  private readonly queue: InboxLine[] = [];
  private waiter: ((line: InboxLine | null) => void) | null = null;
  private ended = false;
  private readonly close: () => void;

  constructor(stdin: NodeJS.ReadableStream, onBadLine: (problem: string) => void) {
    const lines = createInterface({ input: stdin, crlfDelay: Infinity });
    lines.on("line", (raw) => {
      const line = parseLine(raw);
      if (typeof line === "string") onBadLine(line);
      else this.push(line);
    });
    lines.on("close", () => {
      this.ended = true;
      this.wake(null);
    });
    this.close = () => {
      lines.close();
    };
  }

  /** Lines already received, without waiting. */
  get pending(): number {
    return this.queue.length;
  }

  get closed(): boolean {
    return this.ended;
  }

  take(): InboxLine | null {
    return this.queue.shift() ?? null;
  }

  async next(): Promise<InboxLine | null> {
    const queued = this.queue.shift();
    if (queued !== undefined) return queued;
    if (this.ended) return null;
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Stops reading, so an open stdin does not keep the process alive. */
  stop(): void {
    this.close();
  }

  private push(line: InboxLine): void {
    if (this.waiter === null) this.queue.push(line);
    else this.wake(line);
  }

  private wake(line: InboxLine | null): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.(line);
  }
}

function parseLine(raw: string): InboxLine | string {
  if (raw.trim() === "") return "an empty line on stdin was ignored";
  try {
    const value: unknown = JSON.parse(raw);
    if (isObject(value) && (value.type === "prompt" || value.type === "message") && typeof value.text === "string") {
      return { type: value.type, text: value.text };
    }
  } catch {
    // Reported below, like any other line that is not an input object.
  }
  return `ignored a stdin line that is not {"type":"prompt"|"message","text":"…"}: ${raw.slice(0, 80)}`;
}
