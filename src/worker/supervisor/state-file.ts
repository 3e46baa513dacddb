import type { WorkerStatus } from "../../core/agents/worker-status.ts";
import type { ProcessIdentity } from "./proc.ts";
import { writeFileAtomic } from "../../shared/atomic-file.ts";
import { readFileSync } from "node:fs";

/** state.json: the status, plus the running agent's identity so a later supervisor can stop an agent left behind. */
export interface StateFile extends WorkerStatus {
  readonly agent: ProcessIdentity | null;
}

/** Activity alone (a new event) rewrites the file at most this often; state changes rewrite it at once. */
const ACTIVITY_WRITE_MS = 1000;

export class StateWriter {
  readonly #file: string;
  readonly #read: () => StateFile;
  #timer: NodeJS.Timeout | null = null;

  constructor(file: string, read: () => StateFile) {
    this.#file = file;
    this.#read = read;
  }

  /** Rewrites now (the state, queue, session or turns changed). */
  now(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    writeFileAtomic(this.#file, `${JSON.stringify(this.#read(), null, 2)}\n`, { mode: 0o600 });
  }

  /** Rewrites soon (only the last activity moved). */
  soon(): void {
    this.#timer ??= setTimeout(() => { this.now(); }, ACTIVITY_WRITE_MS);
  }

  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

/** The agent a previous supervisor recorded as running, if state.json says one. */
export function recordedAgent(file: string): ProcessIdentity | null {
  try {
    const state = JSON.parse(readFileSync(file, "utf8")) as Partial<StateFile>;
    const agent = state.agent;
    return agent !== null && agent !== undefined && typeof agent.pid === "number" ? agent : null;
  } catch {
    return null;
  }
}
