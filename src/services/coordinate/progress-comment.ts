import { apply, type CoordinatorState } from "../../core/coordinator/state.ts";
import type { CoordinatorEvent } from "../../core/coordinator/events.ts";
import type { CoordinatorProgress } from "../../core/coordinator-runtime/progress.ts";
import type { DashboardModel } from "../../core/dashboard/model.ts";
import { isProgressComment, progressCommentMarkdown } from "../../core/dashboard/progress-comment.ts";
import { ForgeNotFoundError } from "../../core/forge/errors.ts";
import type { Forge } from "../../core/forge/port.ts";

/** Builds the model the comment renders: `dashboardModel` (core/dashboard/build.ts); a test may give its own. */
export type DashboardModelBuilder = (state: CoordinatorState, now: string) => DashboardModel;

export interface ProgressCommentOptions {
  readonly forge: Forge;
  readonly parent: number;
  readonly runId: string;
  /** The state replayed from the log when the run starts or resumes; events seen after are folded in here. */
  readonly state: CoordinatorState;
  readonly model: DashboardModelBuilder;
  /** A failure to comment is said here and never stops the run. */
  readonly notice: (text: string) => void;
  /** At most one edit per interval for routine progress (default 30 s); merges, failures and the end are written at once. */
  readonly intervalMs?: number | undefined;
  readonly now?: (() => number) | undefined;
  /** The timer, replaceable in tests; returns how to cancel. */
  readonly schedule?: ((run: () => void, ms: number) => () => void) | undefined;
}

/** Events a person watching the parent wants to see at once; the rest wait for the interval. */
const AT_ONCE: ReadonlySet<CoordinatorEvent["type"]> = new Set(["Merged", "Failed", "Blocked", "Skipped", "MergeRefused", "LandingMismatched", "RunFinished"]);
const INTERVAL_MS = 30_000;

/**
 * The parent issue's one progress comment for a run: found again by its
 * marker (a coordinator that crashed, or a resumed run, edits the comment it
 * made) or created at the start, then edited in place, never appended: at
 * most once per interval as events come, at once on a merge, a failure and
 * the run's end, and last with the after-action review. Writes go one at a
 * time, and a body that has not changed is not sent. Every forge failure is a
 * notice; the run never waits on the comment beyond one request.
 */
export class ProgressComment {
  readonly #o: ProgressCommentOptions;
  #state: CoordinatorState;
  #id: number | null = null;
  #lastBody: string | null = null;
  #lastAt = Number.NEGATIVE_INFINITY;
  #writing: Promise<void> = Promise.resolve();
  #cancelTimer: (() => void) | null = null;
  #failing = false;
  #finished = false;

  constructor(options: ProgressCommentOptions) {
    this.#o = options;
    this.#state = options.state;
  }

  /** Finds this run's comment on the parent, or creates it with the run as it stands. */
  start(): Promise<void> {
    return this.#enqueue(null);
  }

  /** Every progress of the run: events are folded into the comment's state, written at once or within the interval. */
  observe(progress: CoordinatorProgress): void {
    if (progress.kind !== "event" || this.#finished) return;
    this.#state = apply(this.#state, progress.event);
    if (AT_ONCE.has(progress.event.type)) {
      this.#cancel();
      void this.#enqueue(null);
      return;
    }
    if (this.#cancelTimer !== null) return;
    const wait = Math.max(0, this.#lastAt + (this.#o.intervalMs ?? INTERVAL_MS) - this.#now());
    const schedule = this.#o.schedule ?? defaultSchedule;
    this.#cancelTimer = schedule(() => {
      this.#cancelTimer = null;
      void this.#enqueue(null);
    }, wait);
  }

  /** Resolves once every edit asked for so far was written (or failed). */
  settled(): Promise<void> {
    return this.#writing;
  }

  /** The last edit: the run as it ended (or stopped), with the review when there is one. Nothing is written after. */
  async finish(review: string | null): Promise<void> {
    if (this.#finished) return;
    this.#cancel();
    await this.#enqueue(review);
    this.#finished = true;
  }

  #enqueue(review: string | null): Promise<void> {
    const next = this.#writing.then(() => this.#write(review));
    this.#writing = next;
    return next;
  }

  async #write(review: string | null): Promise<void> {
    if (this.#finished) return;
    const body = progressCommentMarkdown(this.#o.model(this.#state, new Date(this.#now()).toISOString()), review);
    if (body === this.#lastBody) return;
    const { forge, parent } = this.#o;
    try {
      if (this.#id === null) this.#id = await this.#find();
      if (this.#id === null) {
        this.#id = (await forge.commentOnIssue(parent, body)).id;
      } else {
        await forge.updateComment(parent, this.#id, body).catch(async (error: unknown) => {
          // Someone deleted it: a new one carries on, still one comment on the parent.
          if (!(error instanceof ForgeNotFoundError)) throw error;
          this.#id = (await forge.commentOnIssue(parent, body)).id;
        });
      }
      this.#lastBody = body;
      this.#lastAt = this.#now();
      if (this.#failing) this.#o.notice(`the progress comment on #${String(parent)} is up to date again`);
      this.#failing = false;
    } catch (error) {
      // Once per run of failures: a forge that is down for an hour is one line, not one per merge.
      if (!this.#failing) {
        this.#o.notice(`could not update the progress comment on #${String(parent)} (${error instanceof Error ? error.message : String(error)}); the run goes on and tries again at its next change`);
      }
      this.#failing = true;
    }
  }

  /** This run's comment already on the parent (made before a crash, or by the run being resumed), by its marker. */
  async #find(): Promise<number | null> {
    const comments = await this.#o.forge.listComments(this.#o.parent);
    return comments.find((comment) => isProgressComment(comment.body, this.#o.runId))?.id ?? null;
  }

  #cancel(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = null;
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }
}

function defaultSchedule(run: () => void, ms: number): () => void {
  const timer = setTimeout(run, ms);
  // The run's end never waits on a pending edit: finish() writes the last one.
  timer.unref();
  return () => {
    clearTimeout(timer);
  };
}
