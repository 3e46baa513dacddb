import type { CheckResult } from "../doctor/checks.ts";
import type { UnreportedSpend, WorkerReport } from "../agents/worker-status.ts";
import type { AttemptWhy } from "../coordinator/vocabulary.ts";
import { ExternalError } from "../errors.ts";

/** A worker's host is lost for good: what only its checkout held (a reported head not collected yet) is gone with it. */
export class WorkerGoneError extends ExternalError {
  override readonly name: string = "WorkerGoneError";
}

/** How a collect (WorkerPool.collect) is run: stopped by `signal`; `waiting` hears, in words, when it waits for a silent host and when that host answers again. */
export interface CollectOptions {
  readonly signal?: AbortSignal | undefined;
  readonly waiting?: ((text: string) => void) | undefined;
}

/**
 * What the coordinator's runtime needs from its workers, owned by core so the
 * runtime runs the same against real containers (services/coordinate's Docker
 * pool over services/workers) and against an in-memory pool
 * (test/fakes/worker-pool.ts, and later bench/coordinate): "a container-free
 * runtime behind the same ports". Every method checks the world first, so a
 * call repeated after a coordinator crash is harmless.
 */
export interface WorkerPool {
  /** Provisions (or re-validates) the instance checked out from `base`. An instance that cannot be made is `ok: false`, not a throw. */
  warm(request: WarmRequest): Promise<WarmOutcome>;
  /**
   * Starts attempt `attempt`: a new supervisor with `prompt` as the first turn,
   * or, when the instance's session is alive and idle or exited, `prompt` sent
   * to it. An agent of this attempt already running (a launch repeated after a
   * crash) is adopted, not started again.
   */
  launch(request: LaunchRequest): Promise<WorkerOutcome>;
  /**
   * Listens for the instances' reports and messages (on each instance's
   * c.sock). A handler resolves once what came is persisted; only then is it
   * acknowledged. Instances may be added later with `listen` again.
   */
  listen(instances: readonly string[], handlers: WorkerHandlers): Promise<void>;
  /**
   * Reports that nobody acknowledged (the instances' outboxes), handed to `onReport` before they are moved aside.
   * A file that is not a valid report is skipped (left in place) and named to `onSkipped`: never fatal.
   */
  collectPending(instances: readonly string[], onReport: ReportHandler, onSkipped?: SkippedHandler): Promise<number>;
  /**
   * Runs each command in the worker's container on its checkout at `headSha`, in order, stopping at the first that fails.
   * When `request.signal` fires, the command running is ended (its processes killed in the container) and the
   * outcome is a failure of that command with `exitCode: null` and the signal's reason as its output.
   */
  verify(request: VerifyRequest): Promise<VerifyOutcome>;
  /** Stops the agent's current run, if one runs (its supervisor stays); repeating it is harmless. */
  interrupt(instance: string): Promise<void>;
  /** Whether each instance's agent is alive: the container's state plus the supervisor's answer. */
  probe(instances: readonly string[]): Promise<ReadonlyMap<string, Liveness>>;
  /**
   * Calls `onSuspect` with an instance as soon as something says its agent
   * may be gone (its container stopped or was removed), so it is probed at
   * once rather than at the next interval. Until the returned function is
   * called. Best effort: the interval's probes stay the guarantee.
   */
  watch(onSuspect: (instance: string) => void): Promise<() => void>;
  /** Stops listening; with `down`, removes the instances too. Workers keep running otherwise. */
  close(options?: { readonly down?: boolean }): Promise<void>;
  /**
   * What each instance's running agent has spent that no report holds yet (its supervisor's `status`), to hold
   * `coordinator.budget` while agents work. An instance with no agent running, or whose supervisor does not answer, is left out.
   */
  spending(instances: readonly string[]): Promise<ReadonlyMap<string, UnreportedSpend>>;

  /**
   * Sends the instance's agent a message while it works, as `cspace send`
   * does: its supervisor queues it and delivers it when the agent can take it
   * (docs/protocol.md, `send`). Rejects when no supervisor takes it.
   */
  tell(instance: string, text: string): Promise<void>;

  /**
   * What this pool's workers need that is missing, checked before a run makes
   * anything (the worker image's agent and verify executables, the project's
   * repository: docs/architecture.md, "Preflight"), as doctor reports them.
   * Absent: a pool with nothing to check (the fakes run no containers).
   */
  preflight?(signal?: AbortSignal): Promise<readonly CheckResult[]>;
  /**
   * For a worker on a host that shares no folder with this machine: its
   * branch, collected into a repository of cspace's own (checked on the way
   * in), which the branch mover pushes from. Null for a worker here (the
   * mover reads its checkout). Absent: every worker is here. While the
   * worker's host does not answer it waits for it, up to the time after which
   * a silent host's workers count as lost; then it throws WorkerGoneError: the
   * branch is gone with the host. `options.waiting` hears when it starts
   * waiting and when the host answers again, so the run can say why a push
   * takes long.
   */
  collect?(instance: string, branch: string, options?: CollectOptions): Promise<{ readonly repository: string; readonly sha: string } | null>;

  /**
   * The last event each instance's agent wrote (source `agent` in its worker's event log), for the stall watch
   * (core/coordinator/stalls.ts). An instance whose agent wrote none, or whose log cannot be read, is left out.
   */
  lastAgentEvents(instances: readonly string[]): Promise<ReadonlyMap<string, AgentEventSeen>>;
  /**
   * Restarts the instance's agent in the same attempt, as `cspace restart` does: the old supervisor's report says
   * `restarted`, and the new one resumes the session where the preset can, told `reason`. Rejects when it cannot.
   */
  restart(instance: string, reason: string): Promise<void>;
}

/** An agent's event as the stall watch sees it: when (the worker's clock, compared only with itself), what, and its text. */
export interface AgentEventSeen {
  readonly ts: string;
  readonly type: string;
  readonly text: string | null;
}

/** Persists a report; resolving acknowledges it. The instance is the socket (or outbox) it came from. */
export type ReportHandler = (instance: string, report: WorkerReport) => Promise<void>;

/** Persists what a worker said with `cspace send _coordinator`; resolving acknowledges it. */
export type MessageHandler = (instance: string, text: string) => Promise<void>;

/** Something a worker sent or left that the host refused (why, naming the field): shown to people, never recorded. */
export type SkippedHandler = (instance: string, reason: string) => void;

export interface WorkerHandlers {
  readonly report: ReportHandler;
  readonly message: MessageHandler;
  /**
   * A worker's request was refused because it sends too fast (per instance: see core/messaging/rate-limit.ts).
   * `firstOfBurst` is true once per burst: show that one, count the rest.
   */
  readonly rateLimited?: (instance: string, refusal: { readonly firstOfBurst: boolean; readonly refused: number }) => void;
  /** A request refused for not fitting the protocol (the worker got an error reply). */
  readonly refused?: SkippedHandler | undefined;
  /** Something about a worker's link the run should say, once per change (a remote worker's relay down, then back). */
  readonly notice?: ((instance: string, text: string) => void) | undefined;
}

/**
 * Where a person talks to the running coordinator (`cspace send _coordinator
 * "pause"` on the host): the project's own socket, beside the instances'.
 */
export interface OperatorChannel {
  /** Takes commands until the returned function is called; each is answered by `onCommand`. */
  open(onCommand: OperatorHandler): Promise<() => Promise<void>>;
}

export type OperatorHandler = (text: string) => Promise<OperatorAnswer>;

/** What the coordinator did with a command (for the sender), or why it did nothing. */
export type OperatorAnswer = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly error: string };

export interface WarmRequest {
  readonly issue: number;
  readonly instance: string;
  readonly base: string;
  /**
   * A move: make the instance on this host, then remove its container from the host it was on (what it held there
   * is on the forge: a move happens only between attempts). Not ok when that host cannot make it; the old one stays.
   */
  readonly to?: string | undefined;
}

export interface LaunchRequest {
  /** The coordinator run it is part of: a launch repeated after a crash is the same run's; a later run's attempt 1 is not. */
  readonly runId: string;
  readonly issue: number;
  readonly instance: string;
  readonly branch: string;
  readonly base: string;
  /** The sha the agent's own commits start after (the first attempt's base head). */
  readonly baseSha: string | null;
  /** `branch` on the forge: the checkout is brought to it before the agent starts. */
  readonly headSha: string | null;
  readonly attempt: number;
  readonly why: AttemptWhy;
  /** The rendered template. */
  readonly prompt: string;
  /**
   * The launch after the operator's `reset N`: the agent starts anew, never in the session of the work it threw away,
   * and its commits are counted from `baseSha` (an idle supervisor still up from the old attempts is stopped first).
   */
  readonly fresh?: boolean;
}

/** A warm's outcome; `host`: the worker host the instance is on (so launches can respect each host's slots). */
export type WarmOutcome = { readonly ok: true; readonly host?: string | undefined } | { readonly ok: false; readonly error: string };

export type WorkerOutcome = { readonly ok: true; readonly adopted?: boolean } | { readonly ok: false; readonly error: string };

export interface VerifyRequest {
  readonly issue: number;
  readonly instance: string;
  readonly headSha: string;
  readonly commands: readonly string[];
  /** Ends the command running: its timeout (`verify.timeout`) passed, or the operator skipped the issue. */
  readonly signal?: AbortSignal | undefined;
  /**
   * `headSha` is not the branch's head but a commit the host made (the tree that would land, or the feature
   * branch's tip): the checkout is detached at it, and `issue-N` is left where it is.
   */
  readonly detached?: boolean | undefined;
}

export type VerifyOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly command: string; readonly exitCode: number | null; readonly outputTail: string };

/**
 * `working`: an agent runs (or its supervisor is up between turns);
 * `exited`: the agent ended and its report is written (delivered or in the outbox);
 * `lost`: the container is gone or stopped, or the supervisor does not answer while the agent had not exited.
 */
export type Liveness = "working" | "exited" | "lost" | "none";
