import type { CoordinatorEvent } from "../../core/coordinator/events.ts";
import { openAttempt } from "../../core/coordinator/queries.ts";
import type { CoordinatorState } from "../../core/coordinator/state.ts";
import type { ReportHandler, WorkerPool } from "../../core/coordinator-runtime/ports.ts";

/**
 * Probes in a row that find an attempt's agent exited with no report before
 * the attempt counts as lost: the first may race a report on its way (the
 * outbox is written before the state says exited, but delivery takes a moment).
 */
const SILENT_EXIT_PROBES = 3;

export interface LostWorkersContext {
  readonly workers: WorkerPool;
  /** The state as recorded so far (read after every await: it moves on meanwhile). */
  readonly state: () => CoordinatorState;
  /** Whether a launch of the issue is under way: its attempt is not recorded yet. */
  readonly launching: (issue: number) => boolean;
  /** Handles a report found in an outbox, as one that came on the socket. */
  readonly report: ReportHandler;
  /** Resolves once everything appended so far is applied. */
  readonly settled: () => Promise<unknown>;
  readonly record: (events: readonly CoordinatorEvent[]) => Promise<void>;
  readonly notice: (text: string) => void;
  readonly now: () => string;
}

/**
 * The coordinator's watch for workers that went away (docs/architecture.md,
 * "Lost workers"): a probe of every open attempt, one at a time, asked for
 * by the runtime's interval and at once when the engine says a container of
 * an open attempt stopped. `WorkerLost` for a container or supervisor gone,
 * or an agent found exited with no report anywhere probe after probe.
 */
export class LostWorkers {
  readonly #c: LostWorkersContext;
  #probing: Promise<void> | null = null;
  #probeAgain = false;
  /** Attempts whose agent probes found exited while no report of theirs came, by issue. */
  readonly #silent = new Map<number, { readonly attempt: number; readonly count: number }>();

  constructor(context: LostWorkersContext) {
    this.#c = context;
  }

  /** An instance whose container stopped: probed now if an attempt of its issue is open. */
  suspect(issue: number | null): void {
    const record = issue === null ? undefined : this.#c.state().issues[issue];
    if (record !== undefined && openAttempt(record) !== null) this.probeSoon();
  }

  /** One probe at a time; asked for while one runs, another follows it (it may have read the world too early). */
  probeSoon(): void {
    if (this.#probing !== null) {
      this.#probeAgain = true;
      return;
    }
    this.#probing = this.#probe()
      .catch((error: unknown) => { this.#c.notice(`probing workers: ${error instanceof Error ? error.message : String(error)}`); })
      .finally(() => {
        this.#probing = null;
        if (this.#probeAgain) {
          this.#probeAgain = false;
          this.probeSoon();
        }
      });
  }

  async #probe(): Promise<void> {
    const { workers } = this.#c;
    const open = Object.values(this.#c.state().issues).filter((issue) => openAttempt(issue) !== null && !this.#c.launching(issue.number));
    if (open.length === 0) return;
    const liveness = await workers.probe(open.map((issue) => issue.branch));
    const exited = open.filter((issue) => liveness.get(issue.branch) === "exited").map((issue) => issue.branch);
    // An agent that exited has a report somewhere: if it was not delivered, it is in the outbox.
    if (exited.length > 0) await workers.collectPending(exited, this.#c.report);
    await this.#c.settled();
    const lost: CoordinatorEvent[] = [];
    for (const issue of open) {
      const state = liveness.get(issue.branch);
      const attempt = openAttempt(this.#c.state().issues[issue.number] ?? issue);
      const silent = state === "exited" && attempt !== null ? this.#silentExit(issue.number, attempt.number) : 0;
      if (state !== "exited" || attempt === null) this.#silent.delete(issue.number);
      if (attempt === null) continue;
      const at = this.#c.now();
      if (state === "lost" || state === "none") {
        lost.push({ type: "WorkerLost", at, issue: issue.number, attempt: attempt.number, reason: state === "lost" ? "the container or its supervisor is gone" : "no agent runs in the instance" });
      } else if (silent >= SILENT_EXIT_PROBES) {
        this.#silent.delete(issue.number);
        lost.push({ type: "WorkerLost", at, issue: issue.number, attempt: attempt.number, reason: "the agent exited and its supervisor sent no report" });
      }
    }
    if (lost.length > 0) await this.#c.record(lost);
  }

  /** How many probes in a row found this attempt's agent exited with no report anywhere. */
  #silentExit(issue: number, attempt: number): number {
    const seen = this.#silent.get(issue);
    const count = seen?.attempt === attempt ? seen.count + 1 : 1;
    this.#silent.set(issue, { attempt, count });
    return count;
  }
}
