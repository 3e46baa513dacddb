/**
 * The coordinator's durable memory, owned by core. Events are stored
 * generically, `{ seq, runId, at, type, data }` with JSON data, so this port
 * knows nothing of the coordinator's event types: the coordinator's core folds
 * them, the store only keeps them in order and never loses an acknowledged one.
 */

/** A value that survives a JSON round trip unchanged (no undefined, functions, bigints or cycles). */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/** An event as the coordinator hands it to the store. */
export interface NewEvent {
  readonly type: string;
  readonly data: Json;
  /** When it happened; the store's clock when omitted. */
  readonly at?: Date | undefined;
}

/** An event as the store gives it back. */
export interface StoredEvent {
  /** Increasing across every run of the project and never reused: a reader resumes from the last one it saw. */
  readonly seq: number;
  readonly runId: string;
  /** ISO 8601, UTC. */
  readonly at: string;
  readonly type: string;
  readonly data: Json;
}

export interface RunInfo {
  readonly runId: string;
  /** ISO 8601, UTC. */
  readonly startedAt: string;
  /** What startRun was given (the command's options, say). */
  readonly meta: Json;
  /** The seq of the run's latest event; undefined before its first. */
  readonly lastSeq: number | undefined;
}

export interface ReadSinceOptions {
  /** Only this run's events. */
  readonly runId?: string | undefined;
  /** At most this many events (the oldest first); all of them when omitted. */
  readonly limit?: number | undefined;
}

/**
 * One project's event log. Every method sees a consistent snapshot: a batch
 * appended by another process is seen whole or not at all.
 */
export interface EventStore {
  /** Records a new run and returns its id (unique in the project, sorting by start time). */
  startRun(meta: Json, at?: Date): Promise<string>;
  /**
   * Appends the events to the run, all or none, and resolves only once they
   * are durable: after it returns, a kill -9 of this process loses none of
   * them. Returns their seqs, in order. An unknown run is an InternalError.
   */
  append(runId: string, events: readonly NewEvent[]): Promise<number[]>;
  /** The run's events with seq ≥ fromSeq (all of them by default), by seq. */
  read(runId: string, fromSeq?: number): Promise<StoredEvent[]>;
  /** Events with seq > `seq` (every run's, unless one is named), by seq: what a view polls. */
  readSince(seq: number, options?: ReadSinceOptions): Promise<StoredEvent[]>;
  /** The most recently started run, if any. */
  latestRun(): Promise<RunInfo | undefined>;
  /** Every run, oldest first. */
  runs(): Promise<RunInfo[]>;
  /** Releases the store's files; any later call is an InternalError. */
  close(): Promise<void>;
}

/** Who holds the coordinator lock: enough to name them in a refusal. */
export interface CoordinatorHolder {
  readonly pid: number;
  readonly host: string;
  /** When it took the lock, ISO 8601 UTC. */
  readonly startedAt: string;
}

export interface HeldCoordinatorLock {
  readonly holder: CoordinatorHolder;
  /** Gives the lock up; harmless to call twice, and never removes a lock someone else took since. */
  release(): Promise<void>;
}

/**
 * One coordinator per project. A coordinator holds this for its whole life;
 * a second one is refused with a UserError naming the holder, and a holder
 * that died (kill -9, a crash, a reboot) is replaced without anyone's help.
 */
export interface CoordinatorLock {
  acquire(): Promise<HeldCoordinatorLock>;
  /** The live holder, if any (what `cspace status` shows), without taking anything. */
  holder(): Promise<CoordinatorHolder | undefined>;
}
