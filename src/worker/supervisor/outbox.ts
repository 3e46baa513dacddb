import { mkdirSync, readdirSync, readFileSync, renameSync, watch, type FSWatcher } from "node:fs";
import path from "node:path";
import type { WorkerReport } from "../../core/agents/worker-status.ts";
import { request, newRequestId } from "../../adapters/messaging/client.ts";
import { messageOf } from "../../adapters/messaging/socket-file.ts";
import { writeFileAtomic } from "../../shared/atomic-file.ts";

export interface OutboxOptions {
  readonly outboxDir: string;
  readonly deliveredDir: string;
  readonly coordinatorSocket: string;
  readonly instance: string;
  /** The longest wait between attempts while nobody listens. */
  readonly retryMaxMs: number;
  readonly onDelivered: (reportId: string) => void;
  readonly onDiagnostic: (message: string) => void;
}

const FIRST_RETRY_MS = 250;
const SEND_TIMEOUT_MS = 10_000;

/**
 * Reports are at-least-once: each is written to outbox/<id>.json (synced,
 * then renamed into place) before any attempt to send it, and moved to
 * outbox/delivered/ only when the coordinator acknowledged it. While nobody
 * listens, delivery is retried with capped exponential backoff, and at once
 * when c.sock appears; a report the supervisor never delivers stays in the
 * outbox for the next coordinator to collect. Every attempt sends the same
 * report id, so the coordinator drops duplicates.
 */
export class Outbox {
  readonly #options: OutboxOptions;
  #delayMs = FIRST_RETRY_MS;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;
  #watcher: FSWatcher | null = null;

  constructor(options: OutboxOptions) {
    this.#options = options;
    mkdirSync(options.deliveredDir, { recursive: true, mode: 0o700 });
  }

  /** Watches for the coordinator's socket to appear (where the filesystem tells; the backoff covers the rest). */
  watchForCoordinator(): void {
    const socketName = path.basename(this.#options.coordinatorSocket);
    try {
      this.#watcher = watch(path.dirname(this.#options.coordinatorSocket), (_event, name) => {
        if (name === socketName) void this.nudge();
      });
      this.#watcher.on("error", () => { this.#watcher?.close(); });
    } catch {
      this.#watcher = null;
    }
  }

  /** Writes the report durably; the caller then calls nudge() to send it. */
  write(report: WorkerReport): string {
    const file = path.join(this.#options.outboxDir, `${report.id}.json`);
    writeFileAtomic(file, `${JSON.stringify(report, null, 2)}\n`, { durable: true, mode: 0o600 });
    return file;
  }

  /** Reports written and not yet acknowledged, oldest first (ids sort by time). */
  pending(): string[] {
    try {
      return readdirSync(this.#options.outboxDir).filter((name) => name.endsWith(".json") && !name.startsWith(".")).sort();
    } catch {
      return [];
    }
  }

  /** Tries to deliver everything pending now; one pass at a time, another right after if nudged meanwhile. */
  nudge(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
      this.#delayMs = FIRST_RETRY_MS;
    }
    if (this.#running !== null) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#pass().finally(() => {
      this.#running = null;
      if (this.#again) {
        this.#again = false;
        void this.nudge();
      }
    });
    return this.#running;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#watcher?.close();
  }

  async #pass(): Promise<void> {
    for (const name of this.pending()) {
      if (this.#stopped) return;
      const delivered = await this.#deliver(name);
      if (!delivered) {
        this.#scheduleRetry();
        return;
      }
    }
    this.#delayMs = FIRST_RETRY_MS;
  }

  async #deliver(name: string): Promise<boolean> {
    const file = path.join(this.#options.outboxDir, name);
    let report: unknown;
    try {
      report = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      // Collected by a coordinator meanwhile (gone), or unreadable: either way nothing to send.
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") this.#options.onDiagnostic(`cannot read ${file}: ${messageOf(error)}`);
      return true;
    }
    try {
      const reply = await request(this.#options.coordinatorSocket, { v: 1, id: newRequestId(), cmd: "report", from: this.#options.instance, report }, { timeoutMs: SEND_TIMEOUT_MS });
      if (!reply.ok) {
        this.#options.onDiagnostic(`the coordinator refused report ${name}: ${reply.error.code}: ${reply.error.message}`);
        return false;
      }
    } catch (error) {
      this.#options.onDiagnostic(`report ${name} not delivered yet: ${messageOf(error)}`);
      return false;
    }
    try {
      renameSync(file, path.join(this.#options.deliveredDir, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") this.#options.onDiagnostic(`cannot move ${name} to delivered/: ${messageOf(error)}`);
    }
    this.#options.onDelivered(name.slice(0, -".json".length));
    return true;
  }

  #scheduleRetry(): void {
    if (this.#stopped) return;
    const delay = this.#delayMs;
    this.#delayMs = Math.min(this.#delayMs * 2, this.#options.retryMaxMs);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.nudge();
    }, delay);
  }
}
