import { closeSync, fstatSync, openSync, renameSync, writeSync } from "node:fs";
import type { WorkerEvent } from "../../core/agents/worker-status.ts";

/** An event line longer than this keeps its type and time but loses its data and most of its text. */
const MAX_EVENT_BYTES = 256 * 1024;
const MAX_TRUNCATED_TEXT = 16 * 1024;

/**
 * events.ndjson: one JSON object per line, written with a synchronous
 * write(2) each, so a reader (`cspace logs -f`) sees every event as soon as
 * it happens and never half a line from us. Past `maxBytes` the file is
 * renamed to events.1.ndjson (replacing the previous one) and a new one begun.
 */
export class EventsLog {
  readonly #file: string;
  readonly #rotated: string;
  readonly #maxBytes: number;
  #fd: number;
  #size: number;

  constructor(file: string, rotated: string, maxBytes: number) {
    this.#file = file;
    this.#rotated = rotated;
    this.#maxBytes = maxBytes;
    this.#fd = openSync(file, "a", 0o644);
    this.#size = fstatSync(this.#fd).size;
  }

  append(event: WorkerEvent): void {
    const line = encode(event);
    if (this.#size > 0 && this.#size + line.length > this.#maxBytes) this.#rotate();
    writeSync(this.#fd, line);
    this.#size += line.length;
  }

  close(): void {
    closeSync(this.#fd);
  }

  #rotate(): void {
    closeSync(this.#fd);
    renameSync(this.#file, this.#rotated);
    this.#fd = openSync(this.#file, "a", 0o644);
    this.#size = 0;
  }
}

function encode(event: WorkerEvent): Buffer {
  const line = Buffer.from(`${JSON.stringify(event)}\n`, "utf8");
  if (line.length <= MAX_EVENT_BYTES) return line;
  const text = event.text === undefined ? undefined : `${event.text.slice(0, MAX_TRUNCATED_TEXT)}… (truncated)`;
  const smaller: WorkerEvent = { ts: event.ts, source: event.source, type: event.type, ...(text === undefined ? {} : { text }), data: { truncated: true, bytes: line.length } };
  return Buffer.from(`${JSON.stringify(smaller)}\n`, "utf8");
}
