import type { WorkerReport } from "../../core/agents/worker-status.ts";
import type { LaunchCheckout } from "./prompts.ts";
import type { BranchMover } from "../../core/branches/port.ts";
import { actionKey, decisionEvent, isDecision, type WorldAction } from "../../core/coordinator/actions.ts";
import { encodeEvent } from "../../core/coordinator/codec.ts";
import { decide, nextWakeAt } from "../../core/coordinator/decide.ts";
import type { CoordinatorEvent } from "../../core/coordinator/events.ts";
import { OPERATOR_USAGE, operatorDone, operatorEvent, parseOperatorCommand } from "../../core/coordinator/operator.ts";
import { isSettled, lastAttempt, openAttempt, resetPending } from "../../core/coordinator/queries.ts";
import { branchOf } from "../../core/coordinator/vocabulary.ts";
import { apply, type Budget, type CoordinatorState, type IssueRecord } from "../../core/coordinator/state.ts";
import { parkUntil } from "../../core/coordinator/usage-limits.ts";
import type { OperatorAnswer, OperatorChannel, WorkerPool } from "../../core/coordinator-runtime/ports.ts";
import type { ProgressListener } from "../../core/coordinator-runtime/progress.ts";
import { FIRST_RETRY_DELAY_MS, MAX_ACTION_FAILURES, MAX_RETRY_DELAY_MS, retryDelayMs } from "../../core/coordinator-runtime/retry.ts";
import type { EventStore, NewEvent } from "../../core/coordinator-store/port.ts";
import type { Forge } from "../../core/forge/port.ts";
import { executeWorldAction, type VerifyTimeout } from "./execute.ts";
import { LostWorkers } from "./lost-workers.ts";
import { BudgetWatch } from "./budget-watch.ts";
import { StallWatch } from "./stall-watch.ts";

export interface RuntimeOptions {
  readonly store: EventStore;
  readonly runId: string;
  readonly forge: Forge;
  readonly branches: BranchMover;
  readonly workers: WorkerPool;
  /** Where a person's commands come from (`cspace send _coordinator` on the host); none in some tests. */
  readonly operator?: OperatorChannel | undefined;
  readonly renderPrompt: (action: Extract<WorldAction, { type: "Launch" }>, checkout: LaunchCheckout) => Promise<string>;
  /** The state replayed from the log so far. */
  readonly state: CoordinatorState;
  readonly onProgress?: ProgressListener | undefined;
  readonly now?: (() => number) | undefined;
  /** How often running agents are probed (lost within 30 s: the default 10 s plus the probe's own timeout). */
  readonly probeIntervalMs?: number | undefined;
  /** How long a failed action first waits before it runs again; doubled after each further failure (coordinator-runtime/retry.ts). */
  readonly retryDelayMs?: number | undefined;
  /** `verify.timeout`: a verify command running longer is ended and counts as failed. */
  readonly verifyTimeout?: VerifyTimeout | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Whose usage limits the run's agents share (usage-limits.ts `accountName`). */
  readonly account?: string | undefined;
  /** Reads `coordinator.budget` from the configuration: when the run starts or resumes, and when the operator resumes it. */
  readonly budget?: (() => Promise<Budget>) | undefined;
  /** Why a budget cannot hold the run's agent (it reports no cost), said once when a budget is set; null when it can. */
  readonly costless?: string | null | undefined;
  /** The `nudge` template rendered for a silent agent (stalls); absent: a plain sentence. */
  readonly nudgeText?: ((issue: number, instance: string, minutesSilent: number, lastEvent: string | null) => string) | undefined;
}

/** What a skip (or a reset) stops while it runs: actions that only wait or look. Those that move a branch or the forge finish and are recorded, so the log stays the world's. */
const STOPPABLE: ReadonlySet<WorldAction["type"]> = new Set(["Warm", "Launch", "Verify", "CheckPullRequest", "VerifyLanding", "VerifyBase"]);
/** What a reset stops: looks at the discarded work. (It is refused while a launch, a merge-train verification or a branch move is in flight: operator.ts.) */
const RESET_STOPS: ReadonlySet<WorldAction["type"]> = new Set(["Verify", "CheckPullRequest"]);
const PROBE_INTERVAL_MS = 10_000;

/**
 * The coordinator's loop (docs/architecture.md, "The coordinator's runtime"):
 * decide, record decisions, run world actions concurrently through the ports,
 * record each outcome before anything acts on it, and wake on every event,
 * report and timer until `RunFinished`. Events are appended one batch at a
 * time, in order, so the log's order is the order the state saw them in.
 */
export async function runCoordinatorLoop(options: RuntimeOptions): Promise<CoordinatorState> {
  const runtime = new Runtime(options);
  return runtime.run();
}

class Runtime {
  readonly #o: RuntimeOptions;
  #state: CoordinatorState;
  readonly #inFlight = new Map<string, WorldAction>();
  /** How to stop each action in flight, by its key. */
  readonly #stops = new Map<string, AbortController>();
  /** Launches under way per issue: a report waits for its attempt's `Launched`. */
  readonly #launching = new Map<number, Promise<void>>();
  /** Reports that came before any attempt of theirs was recorded (a launch repeated after a crash). */
  readonly #early = new Map<number, WorkerReport[]>();
  #appending: Promise<unknown> = Promise.resolve();
  #wake: (() => void) | null = null;
  #fatal: unknown = undefined;
  #failed = false;
  #closed = false;
  #saidCostless = false;
  readonly #lost: LostWorkers;
  readonly #spending: BudgetWatch;
  readonly #stalls: StallWatch;
  /** Skipped (or reset) issues' agents being interrupted: the run waits for them before it closes. */
  readonly #interrupting = new Set<Promise<void>>();

  constructor(options: RuntimeOptions) {
    this.#o = options;
    this.#state = options.state;
    this.#lost = new LostWorkers({
      workers: options.workers,
      state: () => this.#state,
      launching: (issue) => this.#launching.has(issue),
      report: (instance, report) => this.#report(instance, report),
      settled: () => this.#appending,
      record: (events) => this.#record(events),
      notice: (text) => { this.#notice(text); },
      now: () => new Date(this.#now).toISOString(),
    });
    this.#stalls = new StallWatch({
      workers: options.workers,
      state: () => this.#state,
      launching: (issue) => this.#launching.has(issue),
      record: (events) => this.#record(events),
      notice: (text) => { this.#notice(text); },
      now: () => this.#now,
    });
    this.#spending = new BudgetWatch({
      workers: options.workers,
      state: () => this.#state,
      launching: (issue) => this.#launching.has(issue),
      record: (events) => this.#record(events),
      notice: (text) => { this.#notice(text); },
      now: () => new Date(this.#now).toISOString(),
    });
  }

  get #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  async run(): Promise<CoordinatorState> {
    const { workers } = this.#o;
    const instances = Object.values(this.#state.issues).map((issue) => issue.branch);
    const onReport = (instance: string, report: WorkerReport): Promise<void> => this.#report(instance, report);
    const onRefused = (instance: string, reason: string): void => { this.#notice(`${instance}: ${reason}`); };
    await workers.listen(instances, {
      report: onReport,
      message: (instance, text) => this.#message(instance, text),
      refused: onRefused,
      notice: (instance, text) => { this.#notice(`${instance}: ${text}`); },
      // Once per burst: a flood of refusals is one line, never one per request.
      rateLimited: (instance, refusal) => {
        if (refusal.firstOfBurst) this.#notice(`${instance} sends too fast: its requests are refused (rate-limited) until it slows down (${String(refusal.refused)} refused so far)`);
      },
    });
    await this.#syncBudget();
    await workers.collectPending(instances, onReport, onRefused);
    // A reset recorded just before the coordinator stopped may not have reached its agent: interrupting again is harmless.
    for (const record of Object.values(this.#state.issues)) if (resetPending(record) && openAttempt(record) !== null) this.#interruptFor(record.number);
    // Each command is answered even when it ends the run (the last issue skipped): the channel closes after the answers.
    const answering = new Set<Promise<OperatorAnswer>>();
    const closeOperator = (await this.#o.operator?.open((text) => {
      const answer = this.#operate(text);
      answering.add(answer);
      void answer.finally(() => answering.delete(answer)).catch(() => undefined);
      return answer;
    })) ?? (() => Promise.resolve());
    const probe = setInterval(() => {
      this.#lost.probeSoon();
      this.#spending.pollSoon();
    }, this.#o.probeIntervalMs ?? PROBE_INTERVAL_MS);
    // Agents' activity, for stalls: at a quarter of coordinator.stallMinutes (stall-watch.ts).
    const stallEvery = this.#stalls.intervalMs(this.#o.probeIntervalMs ?? PROBE_INTERVAL_MS);
    const stallPoll = stallEvery === null ? undefined : setInterval(() => { void this.#stalls.pollSoon(); }, stallEvery);
    // A container that dies is probed at once; the interval stays the guarantee when the engine's events break.
    const unwatch = await workers.watch((instance) => { this.#lost.suspect(issueOf(instance)); }).catch((error: unknown) => {
      this.#notice(`not following the engine's events (${message(error)}): lost workers are found by probes every ${String((this.#o.probeIntervalMs ?? PROBE_INTERVAL_MS) / 1000)} s`);
      return () => undefined;
    });
    const abort = (): void => { this.#kick(); };
    this.#o.signal?.addEventListener("abort", abort);
    try {
      while (this.#state.finished === null) {
        if (this.#failed) throw this.#fatal;
        if (this.#o.signal?.aborted === true) throw this.#o.signal.reason;
        const slept = this.#sleep();
        if (await this.#step()) continue;
        await slept;
      }
      await this.#appending;
      return this.#state;
    } finally {
      // Nothing is appended once the loop has stopped: the lock is released next, and a resumed
      // coordinator may be writing. An action still running learns it when it records; a report
      // coming in is refused and stays in its worker's outbox.
      this.#closed = true;
      clearInterval(probe);
      clearInterval(stallPoll);
      unwatch();
      this.#o.signal?.removeEventListener("abort", abort);
      await Promise.allSettled([...answering, ...this.#interrupting]);
      await closeOperator();
    }
  }

  /** A worker's `cspace send _coordinator`: recorded, so it is in the log and the progress lines. */
  async #message(instance: string, text: string): Promise<void> {
    const issue = issueOf(instance);
    if (issue === null || this.#state.issues[issue] === undefined) throw new Error(`no issue of this run runs in ${instance}`);
    await this.#record([{ type: "WorkerMessaged", at: new Date(this.#now).toISOString(), issue, text }]);
  }

  /** An operator's command from the host: one event, recorded before the answer; a skipped issue's agent is interrupted. */
  async #operate(text: string): Promise<OperatorAnswer> {
    if (this.#closed) return { ok: false, error: "the run is stopping: nothing more is recorded" };
    const command = parseOperatorCommand(text);
    if (!command.ok) return { ok: false, error: `${command.error}; the commands are:\n${OPERATOR_USAGE}` };
    await this.#appending;
    // A run held by its budget resumes with the budget the configuration says now.
    if (command.value.kind === "resume" && command.value.issue === null) {
      const reread = await this.#syncBudget().then(() => null, (error: unknown) => message(error));
      if (reread !== null) return { ok: false, error: `coordinator.budget could not be read again: ${reread}` };
    }
    const event = operatorEvent(this.#state, command.value, new Date(this.#now).toISOString(), [...this.#inFlight.values()]);
    if (!event.ok) return { ok: false, error: event.error };
    await this.#record([event.value]);
    if (event.value.type === "Skipped") {
      this.#stopActionsOf(event.value.issue, `#${String(event.value.issue)} was skipped`);
      this.#interruptFor(event.value.issue);
    }
    if (event.value.type === "ResetRequested") {
      // A verify or a pull request check of the discarded work is of no use; its agent is stopped (its report ends the attempt).
      this.#stopActionsOf(event.value.issue, `#${String(event.value.issue)} was reset`, RESET_STOPS);
      if (event.value.attempt !== null) this.#interruptFor(event.value.issue);
    }
    return { ok: true, text: operatorDone(command.value, event.value) };
  }

  /**
   * Interrupts the issue's agent in the background. Answered once recorded (docs/protocol.md), not once the agent
   * stopped, which takes up to twice its grace period: the run, which may end with a skip, waits for the interrupt before it closes.
   */
  #interruptFor(issue: number): void {
    const instance = branchOf(issue);
    const stopping = this.#o.workers.interrupt(instance).catch((error: unknown) => { this.#notice(`interrupting ${instance}: ${message(error)}`); });
    this.#interrupting.add(stopping);
    void stopping.finally(() => this.#interrupting.delete(stopping));
  }

  /** Records the configured budget when it differs from the log's, and says once when it cannot hold the agent. */
  async #syncBudget(): Promise<void> {
    if (this.#o.budget === undefined) return;
    const budget = await this.#o.budget();
    await this.#appending;
    const current = this.#state.budget;
    if (budget.run !== current.run || budget.issue !== current.issue) {
      await this.#record([{ type: "BudgetSet", at: new Date(this.#now).toISOString(), run: budget.run, issue: budget.issue }]);
    }
    const costless = this.#o.costless ?? null;
    if (costless !== null && (budget.run !== null || budget.issue !== null) && !this.#saidCostless) {
      this.#saidCostless = true;
      this.#notice(costless);
    }
  }

  /** One round of decisions; true when decisions were recorded (decide again at once). */
  async #step(): Promise<boolean> {
    const actions = decide(this.#state, this.#now, [...this.#inFlight.values()]);
    const decisions = actions.filter(isDecision);
    if (decisions.length > 0) {
      const at = new Date(this.#now).toISOString();
      const stopping = decisions.flatMap((decision) => (decision.type === "Fail" && this.#runs(decision.issue) ? [decision.issue] : []));
      await this.#record(decisions.map((decision) => decisionEvent(decision, at)));
      for (const issue of stopping) this.#stopAgentOf(issue);
      return true;
    }
    for (const action of actions) if (!isDecision(action)) this.#start(action);
    return false;
  }

  #start(action: WorldAction): void {
    const key = actionKey(action);
    const stop = new AbortController();
    this.#inFlight.set(key, action);
    this.#stops.set(key, stop);
    this.#o.onProgress?.({ kind: "action", at: new Date(this.#now).toISOString(), action });
    const executed = executeWorldAction(
      {
        forge: this.#o.forge,
        branches: this.#o.branches,
        workers: this.#o.workers,
        state: () => this.#state,
        // A stopped action records nothing more: its issue was skipped, what it would say no longer applies.
        record: (events) => (stop.signal.aborted ? Promise.reject(asError(stop.signal.reason)) : this.#record(events)),
        renderPrompt: this.#o.renderPrompt,
        now: () => new Date(this.#now).toISOString(),
        notice: (text) => { this.#notice(text); },
        signal: stop.signal,
        verifyTimeout: this.#o.verifyTimeout,
        stalls: {
          look: (issue, attempt, instance) => this.#stalls.look(issue, attempt, instance),
          nudgeText: (issue, instance, minutes, lastEvent) =>
            this.#o.nudgeText?.(issue, instance, minutes, lastEvent) ?? `Nothing has come from you for ${String(minutes)} minutes: go on with issue #${String(issue)}, or run cspace blocked "<why>".`,
        },
      },
      action,
    );
    const done = untilStopped(executed, stop.signal);
    done.then(
      () => {
        this.#recovered(action);
        this.#settle(key);
      },
      (error: unknown) => {
        if (this.#failed || this.#closed) return;
        if (stop.signal.aborted) {
          this.#notice(`${key} stopped: ${message(stop.signal.reason)}`);
          this.#settle(key);
          return;
        }
        const failures = (this.#state.issues[action.issue]?.actionFailures[action.type]?.count ?? 0) + 1;
        if (failures >= MAX_ACTION_FAILURES) {
          this.#giveUp(action, key, failures, error);
          return;
        }
        const delay = retryDelayMs(failures, this.#o.retryDelayMs ?? FIRST_RETRY_DELAY_MS, MAX_RETRY_DELAY_MS);
        // Held as in flight until the delay passes: decide neither repeats it at once nor gives a launch's slot away.
        this.#notice(`${key} failed (${String(failures)} of ${String(MAX_ACTION_FAILURES)} tries), trying again in ${seconds(delay)}: ${message(error)}`);
        // Counted in the log, so a resumed run goes on counting from here; the wait starts once it is durable.
        const counted = this.#record([this.#actionFailed(action, failures, error, false)]);
        void counted.catch(() => undefined).finally(() => { setTimeout(() => { this.#settle(key); }, delay).unref(); });
      },
    );
    if (action.type === "Launch") {
      this.#launching.set(action.issue, done);
      void done.finally(() => {
        if (this.#launching.get(action.issue) === done) this.#launching.delete(action.issue);
        this.#flushEarly(action.issue);
      }).catch(() => undefined);
    }
  }

  #settle(key: string): void {
    this.#inFlight.delete(key);
    this.#stops.delete(key);
    this.#kick();
  }

  /**
   * An action that failed too often in a row is not started again: its issue fails with the action and the
   * last error as the reason (an issue already merged or ended keeps its outcome; the notice says what was left undone).
   */
  #giveUp(action: WorldAction, key: string, failures: number, error: unknown): void {
    const reason = `${action.type} failed ${String(failures)} times in a row: ${message(error)}`;
    const record = this.#state.issues[action.issue];
    this.#notice(`#${String(action.issue)}: ${reason}; not trying again`);
    // One batch: the give-up (which decide reads, now and after a resume) and the issue's failure are durable together.
    const givenUp = this.#actionFailed(action, failures, error, true);
    const events: CoordinatorEvent[] =
      record === undefined || isSettled(record) ? [givenUp] : [givenUp, { type: "Failed", at: new Date(this.#now).toISOString(), issue: action.issue, reason }];
    const failed = this.#record(events);
    // The slot is given back once the failure is recorded, so nothing is decided for the issue in between.
    void failed.catch(() => undefined).finally(() => { this.#settle(key); });
  }

  #actionFailed(action: WorldAction, failures: number, error: unknown, givenUp: boolean): CoordinatorEvent {
    return { type: "ActionFailed", at: new Date(this.#now).toISOString(), issue: action.issue, action: action.type, failures, error: message(error), givenUp };
  }

  /** An action that had failed went through: its count starts again (recorded only when there was one). */
  #recovered(action: WorldAction): void {
    if (this.#state.issues[action.issue]?.actionFailures[action.type] === undefined) return;
    void this.#record([{ type: "ActionRecovered", at: new Date(this.#now).toISOString(), issue: action.issue, action: action.type }]).catch(() => undefined);
  }

  /** An attempt of the issue is open: its agent runs (or its report is on its way). */
  #runs(issue: number): boolean {
    const record = this.#state.issues[issue];
    return record !== undefined && openAttempt(record) !== null;
  }

  /**
   * An issue that failed while its agent ran (over its budget) has its agent stopped, as a skip does; the attempt stays
   * open until the agent's report ends it, so what it spent is counted. In the background: a stop takes seconds.
   */
  #stopAgentOf(issue: number): void {
    const instance = branchOf(issue);
    void this.#o.workers.interrupt(instance).catch((error: unknown) => { this.#notice(`interrupting ${instance}: ${message(error)}`); });
  }

  /** The skipped issue's actions that only wait (a verify, a launch, a warm) end now; nothing they would record is. */
  #stopActionsOf(issue: number, why: string, stoppable: ReadonlySet<WorldAction["type"]> = STOPPABLE): void {
    for (const [key, action] of this.#inFlight) {
      if (action.issue !== issue || !stoppable.has(action.type)) continue;
      this.#stops.get(key)?.abort(new Error(why));
    }
  }

  /** Durable first, then applied, then shown; a failed append stops the run (its state would run ahead of the log). */
  #record(events: readonly CoordinatorEvent[]): Promise<void> {
    // Checked against the registry's schemas before anything is durable: an event that does not fit is
    // refused to whoever asked (an error reply, an action tried again) and never stops the run.
    let rows: NewEvent[];
    try {
      rows = events.map(encodeEvent);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const appended = this.#appending.then(async () => {
      if (this.#failed) throw this.#fatal;
      if (this.#closed) throw new Error("the run has stopped: nothing more is recorded");
      try {
        const seqs = await this.#o.store.append(this.#o.runId, rows);
        events.forEach((event, i) => {
          this.#state = apply(this.#state, event);
          this.#o.onProgress?.({ kind: "event", seq: seqs[i] ?? 0, event });
        });
      } catch (error) {
        this.#failed = true;
        this.#fatal = error;
        throw error;
      } finally {
        this.#kick();
      }
    });
    this.#appending = appended.catch(() => undefined);
    return appended;
  }

  async #report(instance: string, report: WorkerReport): Promise<void> {
    const issue = issueOf(instance);
    if (issue === null || this.#state.issues[issue] === undefined) throw new Error(`no issue of this run runs in ${instance}`);
    await this.#launching.get(issue)?.catch(() => undefined);
    await this.#appending;
    if (this.#seen(issue, report.id)) return;
    const attempt = attemptFor(this.#state.issues[issue]);
    if (attempt === null) {
      // Its launch is not recorded yet (repeated after a crash): held until it is.
      this.#early.set(issue, [...(this.#early.get(issue) ?? []), report]);
      return;
    }
    const at = new Date(this.#now).toISOString();
    const limit = report.outcome === "failure" ? (report.usageLimit ?? null) : null;
    // A usage limit ends the attempt without counting it, and parks the account the agent runs on.
    const limited: CoordinatorEvent[] =
      limit === null
        ? []
        : [{ type: "RateLimited", at, issue, attempt: attempt.number, until: parkUntil(limit.resetsAt, this.#now), account: this.#o.account ?? "agent", resetsAt: limit.resetsAt, message: limit.message }];
    await this.#record([{ type: "Reported", at, issue, attempt: attempt.number, report }, ...limited]);
  }

  #flushEarly(issue: number): void {
    const held = this.#early.get(issue);
    if (held === undefined) return;
    this.#early.delete(issue);
    for (const report of held) void this.#report(`issue-${String(issue)}`, report).catch((error: unknown) => { this.#notice(`report ${report.id}: ${message(error)}`); });
  }

  #seen(issue: number, reportId: string): boolean {
    return this.#state.issues[issue]?.attempts.some((attempt) => attempt.reportId === reportId) ?? false;
  }

  #notice(text: string): void {
    this.#o.onProgress?.({ kind: "notice", at: new Date(this.#now).toISOString(), text });
  }

  #kick(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** Resolves at the next event, report, abort or timed wake (a rate limit ending, a pull request to poll). */
  #sleep(): Promise<void> {
    return new Promise((resolve) => {
      const wakeAt = nextWakeAt(this.#state);
      const timer = wakeAt === null ? undefined : setTimeout(() => { this.#kick(); }, Math.max(0, wakeAt - this.#now));
      this.#wake = () => {
        if (timer !== undefined) clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** The attempt a report belongs to: the open one, else the last (a late report of an attempt already ended changes nothing). */
function attemptFor(record: IssueRecord | undefined): { readonly number: number } | null {
  return record === undefined ? null : (openAttempt(record) ?? lastAttempt(record));
}

function issueOf(instance: string): number | null {
  const match = /^issue-(\d+)$/.exec(instance);
  return match === null ? null : Number(match[1]);
}

/** Settles as `work` does, or rejects with the signal's reason as soon as it fires (the work goes on unobserved). */
function untilStopped(work: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(asError(signal.reason));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => { reject(asError(signal.reason)); };
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => { signal.removeEventListener("abort", onAbort); }).catch(() => undefined);
  });
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

function seconds(ms: number): string {
  return ms >= 1_000 ? `${String(Math.round(ms / 100) / 10)} s` : `${String(ms)} ms`;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
