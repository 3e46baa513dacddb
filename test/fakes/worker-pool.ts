import type { UnreportedSpend, WorkerReport } from "../../src/core/agents/worker-status.ts";
import type {
  AgentEventSeen,
  LaunchRequest,
  Liveness,
  ReportHandler,
  VerifyOutcome,
  VerifyRequest,
  WarmOutcome,
  WarmRequest,
  WorkerHandlers,
  WorkerOutcome,
  WorkerPool,
} from "../../src/core/coordinator-runtime/ports.ts";

/**
 * An in-memory WorkerPool driven like the core's simulation: per issue, a
 * script of how each run of its agent ends (success with a commit, failure,
 * crash, blocked, no commits, lost: the container dies with no report, or
 * silent: the agent exits and its supervisor writes no report)
 * and how each verify ends. Agents finish on a timer (`agentMs`); their
 * reports go to an outbox first and leave it only when the listener
 * resolves, as the real supervisor's do, so a coordinator that dies keeps
 * nothing from the next one. The pool outlives coordinators: a test hands
 * the same pool to the coordinator it resumes with. Commits are made by
 * `commit` (the test's world: a fake forge's checkout), which returns the
 * new head.
 */
export type FakeAgentOutcome = "success" | "failure" | "crash" | "blocked" | "no-commits" | "lost" | "silent";

export interface FakeWorkerScript {
  readonly warm?: "ok" | "fail";
  /** The worker host its warm places it on (none said when absent). */
  readonly host?: string;
  /** How a move to another host goes (a warm with `to`): "fail" when that host cannot make it. Default "ok". */
  readonly move?: "ok" | "fail";
  /** Each launch in turn: "fail" is an agent that cannot be started (its executable missing); once used up, every launch starts. */
  readonly launch?: readonly ("ok" | "fail")[];
  /** Each run of the agent in turn; once used up, every run succeeds. */
  readonly attempts?: readonly FakeAgentOutcome[];
  /** Each verify in turn; "hang" runs until the verify's signal ends it (its timeout, or a skip). */
  readonly verify?: readonly ("pass" | "fail" | "hang")[];
  /** Each verify of a commit the host made (the tree that would land, the feature branch alone: `detached`), in turn; then pass. */
  readonly detached?: readonly ("pass" | "fail" | "hang")[];
}

export interface FakeWorkerPoolOptions {
  readonly scripts?: Readonly<Record<number, FakeWorkerScript>>;
  /** Makes the agent's commit on top of `launch.headSha` and answers the new head. */
  readonly commit: (launch: LaunchRequest) => Promise<string>;
  /** How long an agent works before it exits. */
  readonly agentMs?: number;
  /** How long this run of the agent works, per launch (bench/coordinate: known durations per issue); `agentMs` when absent. */
  readonly agentMsOf?: (launch: LaunchRequest) => number;
  /** An interrupt ends a working agent at once with an `interrupted` report carrying what it spent (`spend`); otherwise it is only recorded. */
  readonly interruptStops?: boolean;
}

interface Agent {
  readonly launch: LaunchRequest;
  state: "working" | "exited" | "lost";
  /** What it spent so far that no report holds (`spend`), as its supervisor's status would say. */
  unreported: UnreportedSpend | null;
}

export class FakeWorkerPool implements WorkerPool {
  readonly launches: LaunchRequest[] = [];
  readonly verifies: VerifyRequest[] = [];
  readonly warms: WarmRequest[] = [];
  /** Instances the coordinator interrupted, in order. */
  readonly interrupted: string[] = [];
  /** Reports written and not yet acknowledged, by instance. */
  readonly outbox = new Map<string, WorkerReport[]>();
  readonly delivered: WorkerReport[] = [];
  readonly #agents = new Map<string, Agent>();
  readonly #used = new Map<string, number>();
  readonly #options: FakeWorkerPoolOptions;
  #handler: ReportHandler | null = null;
  #messageHandler: ((instance: string, text: string) => Promise<void>) | null = null;
  readonly #watchers = new Set<(instance: string) => void>();
  #reports = 0;

  constructor(options: FakeWorkerPoolOptions) {
    this.#options = options;
  }

  warm(request: WarmRequest): Promise<WarmOutcome> {
    this.warms.push(request);
    const script = this.#script(request.issue);
    if (request.to !== undefined) return Promise.resolve(script.move === "fail" ? { ok: false, error: `host ${request.to} does not answer` } : { ok: true, host: request.to });
    return Promise.resolve(script.warm === "fail" ? { ok: false, error: "postCreateCommand exited 1" } : { ok: true, host: script.host });
  }

  launch(request: LaunchRequest): Promise<WorkerOutcome> {
    const running = this.#agents.get(request.instance);
    // A launch repeated after a coordinator crash: the agent of that attempt already runs (or ran).
    if (running !== undefined && running.launch.attempt === request.attempt) return Promise.resolve({ ok: true, adopted: true });
    if (this.#take(request.issue, "launch", this.#script(request.issue).launch) === "fail") {
      return Promise.resolve({ ok: false, error: `the claude agent's executable "claude" is not on the container user's PATH` });
    }
    this.launches.push(request);
    const agent: Agent = { launch: request, state: "working", unreported: null };
    this.#agents.set(request.instance, agent);
    setTimeout(() => void this.#finish(agent), this.#options.agentMsOf?.(request) ?? this.#options.agentMs ?? 5);
    return Promise.resolve({ ok: true });
  }

  async listen(_instances: readonly string[], handlers: WorkerHandlers): Promise<void> {
    this.#handler = handlers.report;
    this.#messageHandler = handlers.message;
    await this.#deliverAll();
  }

  /** A worker's `cspace send _coordinator "<text>"`: resolves once the coordinator persisted it. */
  async say(instance: string, text: string): Promise<void> {
    if (this.#messageHandler === null) throw new Error("no coordinator listens");
    await this.#messageHandler(instance, text);
  }

  /** Messages the coordinator sent working agents, in order; an instance in `refuseTell` has no supervisor to take them. */
  readonly told: { readonly instance: string; readonly text: string }[] = [];
  readonly refuseTell = new Set<string>();

  tell(instance: string, text: string): Promise<void> {
    if (this.refuseTell.has(instance)) return Promise.reject(new Error(`no supervisor is running for instance "${instance}"`));
    this.told.push({ instance, text });
    return Promise.resolve();
  }

  async interrupt(instance: string): Promise<void> {
    // Recorded only: the agent's run still ends with a report, which the coordinator finds belongs to an attempt it ended.
    this.interrupted.push(instance);
    const agent = this.#agents.get(instance);
    if (this.#options.interruptStops !== true || agent?.state !== "working") return;
    agent.state = "exited";
    const { launch } = agent;
    const now = new Date().toISOString();
    const spent = agent.unreported;
    const report: WorkerReport = {
      id: `${launch.instance}-${String(++this.#reports).padStart(6, "0")}`, instance: launch.instance, outcome: "interrupted", exitCode: null, signal: "SIGINT",
      branch: launch.branch, base: launch.base, headSha: launch.headSha, commitsAhead: 0, summary: "interrupted", blockedReason: null,
      turns: spent?.turns ?? 0, costUsd: spent?.costUsd ?? null, sessionId: null, startedAt: spent?.since ?? now, endedAt: now,
    };
    this.outbox.set(launch.instance, [...(this.outbox.get(launch.instance) ?? []), report]);
    await this.#deliverAll();
  }

  /** The working agent of `instance` has spent this so far (its supervisor's status says it until its report does). */
  spend(instance: string, turns: number, costUsd: number): void {
    const agent = this.#agents.get(instance);
    if (agent?.state !== "working") throw new Error(`no agent works in ${instance}`);
    agent.unreported = { turns, costUsd, since: agent.unreported?.since ?? new Date().toISOString() };
  }

  /** The last event each agent wrote, as a test sets it (`agentSays`): the stall watch reads it. */
  readonly agentEvents = new Map<string, AgentEventSeen>();
  /** Restarts the coordinator asked for, in order; an instance in `refuseRestart` cannot be restarted. */
  readonly restarts: { readonly instance: string; readonly reason: string }[] = [];
  readonly refuseRestart = new Set<string>();

  /** The agent of `instance` writes an event now (anything: the stall watch sees activity). */
  agentSays(instance: string, text: string): void {
    this.agentEvents.set(instance, { ts: new Date().toISOString(), type: "text", text });
  }

  lastAgentEvents(instances: readonly string[]): Promise<ReadonlyMap<string, AgentEventSeen>> {
    return Promise.resolve(new Map(instances.flatMap((instance) => {
      const seen = this.agentEvents.get(instance);
      return seen === undefined ? [] : [[instance, seen] as const];
    })));
  }

  restart(instance: string, reason: string): Promise<void> {
    if (this.refuseRestart.has(instance)) return Promise.reject(new Error(`instance ${instance} is gone (no container): its agent cannot be restarted`));
    this.restarts.push({ instance, reason });
    return Promise.resolve();
  }

  spending(instances: readonly string[]): Promise<ReadonlyMap<string, UnreportedSpend>> {
    const figures = instances.flatMap((instance) => {
      const agent = this.#agents.get(instance);
      return agent?.state === "working" && agent.unreported !== null ? [[instance, agent.unreported] as const] : [];
    });
    return Promise.resolve(new Map(figures));
  }

  async collectPending(instances: readonly string[], onReport: ReportHandler): Promise<number> {
    let count = 0;
    for (const instance of instances) {
      for (const report of [...(this.outbox.get(instance) ?? [])]) {
        await onReport(instance, report);
        this.#acknowledge(instance, report);
        count++;
      }
    }
    return count;
  }

  verify(request: VerifyRequest): Promise<VerifyOutcome> {
    this.verifies.push(request);
    const script = this.#script(request.issue);
    const result = (request.detached === true ? this.#take(request.issue, "detached", script.detached) : this.#take(request.issue, "verify", script.verify)) ?? "pass";
    const command = request.commands[0] ?? "verify";
    if (result === "hang") return hangUntil(request.signal, command);
    return Promise.resolve(result === "pass" ? { ok: true } : { ok: false, command, exitCode: 1, outputTail: "1 test failed" });
  }

  probe(instances: readonly string[]): Promise<ReadonlyMap<string, Liveness>> {
    return Promise.resolve(new Map(instances.map((instance) => [instance, this.#agents.get(instance)?.state ?? "none"])));
  }

  watch(onSuspect: (instance: string) => void): Promise<() => void> {
    this.#watchers.add(onSuspect);
    return Promise.resolve(() => {
      this.#watchers.delete(onSuspect);
    });
  }

  close(): Promise<void> {
    this.#handler = null;
    this.#messageHandler = null;
    return Promise.resolve();
  }

  /** Launches of one issue, in order. */
  launchesOf(issue: number): readonly LaunchRequest[] {
    return this.launches.filter((launch) => launch.issue === issue);
  }

  async #finish(agent: Agent): Promise<void> {
    const { launch } = agent;
    // Stopped by an interrupt (interruptStops): its report is written.
    if (agent.state !== "working") return;
    const outcome = this.#take(launch.issue, "attempts", this.#script(launch.issue).attempts) ?? "success";
    if (outcome === "lost") {
      agent.state = "lost";
      // As the engine's event stream says a container died.
      for (const watcher of this.#watchers) watcher(launch.instance);
      return;
    }
    if (outcome === "silent") {
      agent.state = "exited";
      return;
    }
    const head = outcome === "success" && launch.why !== "review" ? await this.#options.commit(launch) : launch.headSha;
    const now = new Date().toISOString();
    const report: WorkerReport = {
      id: `${launch.instance}-${String(++this.#reports).padStart(6, "0")}`,
      instance: launch.instance,
      outcome: outcome === "no-commits" ? "success" : outcome === "success" ? "success" : outcome,
      exitCode: outcome === "crash" ? null : outcome === "failure" ? 1 : 0,
      signal: outcome === "crash" ? "SIGKILL" : null,
      branch: launch.branch,
      base: launch.base,
      headSha: head,
      commitsAhead: outcome === "no-commits" ? 0 : 1,
      summary: outcome === "failure" ? "tests fail" : "done",
      blockedReason: outcome === "blocked" ? "needs a database password" : null,
      turns: 3,
      costUsd: 0.25,
      sessionId: null,
      startedAt: now,
      endedAt: now,
    };
    agent.state = "exited";
    this.outbox.set(launch.instance, [...(this.outbox.get(launch.instance) ?? []), report]);
    await this.#deliverAll();
  }

  async #deliverAll(): Promise<void> {
    for (const [instance, reports] of [...this.outbox]) {
      for (const report of [...reports]) {
        const handler = this.#handler;
        if (handler === null) return;
        try {
          await handler(instance, report);
          this.#acknowledge(instance, report);
        } catch {
          // Not acknowledged: it stays in the outbox for the next coordinator.
        }
      }
    }
  }

  #acknowledge(instance: string, report: WorkerReport): void {
    const left = (this.outbox.get(instance) ?? []).filter((r) => r.id !== report.id);
    if (left.length === 0) this.outbox.delete(instance);
    else this.outbox.set(instance, left);
    if (!this.delivered.some((r) => r.id === report.id)) this.delivered.push(report);
  }

  #script(issue: number): FakeWorkerScript {
    return this.#options.scripts?.[issue] ?? {};
  }

  #take<T>(issue: number, what: string, script: readonly T[] | undefined): T | undefined {
    const key = `${String(issue)}:${what}`;
    const index = this.#used.get(key) ?? 0;
    this.#used.set(key, index + 1);
    return script?.[index];
  }
}

/** A verify command that never ends by itself: as the Docker pool does, the signal ends it as a failure naming its reason. */
function hangUntil(signal: AbortSignal | undefined, command: string): Promise<VerifyOutcome> {
  return new Promise((resolve) => {
    const stopped = (): void => {
      const reason: unknown = signal?.reason;
      resolve({ ok: false, command, exitCode: null, outputTail: reason instanceof Error ? reason.message : String(reason) });
    };
    if (signal?.aborted === true) stopped();
    else signal?.addEventListener("abort", stopped, { once: true });
  });
}
