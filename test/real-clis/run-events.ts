import { readFile } from "node:fs/promises";

/** One coordinator event from `cspace coordinate --json`'s progress lines: its type, time and fields. */
export interface RunEvent {
  readonly type: string;
  readonly at: string;
  readonly [field: string]: unknown;
}

/** The events of a run's NDJSON output (`{"kind":"event","seq":…,"event":{…}}` lines), in order. */
export function eventsOfRun(stdout: string): RunEvent[] {
  return stdout
    .split("\n")
    .filter((line) => line.startsWith('{"kind":"event"'))
    .map((line) => (JSON.parse(line) as { event: RunEvent }).event);
}

/** One line of a worker's events.ndjson (what `cspace logs` shows): who said it, what kind, its text. */
export interface WorkerEventLine {
  readonly ts: string;
  readonly source: string;
  readonly type: string;
  readonly text?: string;
  readonly data?: unknown;
}

/** A worker's events.ndjson, parsed; empty when it does not exist. */
export async function workerEvents(file: string): Promise<WorkerEventLine[]> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as WorkerEventLine);
}
