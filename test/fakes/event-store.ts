import type { CoordinatorHolder, CoordinatorLock, EventStore, HeldCoordinatorLock, Json, NewEvent, ReadSinceOptions, RunInfo, StoredEvent } from "../../src/core/coordinator-store/port.ts";
import { coordinatorRunning } from "../../src/core/coordinator-store/refusal.ts";
import { runIdFor } from "../../src/core/coordinator-store/run-id.ts";
import { InternalError } from "../../src/core/errors.ts";

/** What the fake keeps "on disk": share one between two FakeEventStores to play two processes on one file. */
export class FakeEventLog {
  readonly runs: { runId: string; startedAt: string; meta: string }[] = [];
  readonly events: { seq: number; runId: string; at: string; type: string; data: string }[] = [];
  nextSeq = 1;
}

/**
 * An EventStore in memory, held to the same contract suite as the SQLite one
 * (test/contract/event-store-contract.ts). Data goes through JSON both ways,
 * as it does in SQLite, so a caller can no more share objects with the log
 * here than there; a batch is checked whole before any of it is kept.
 */
export class FakeEventStore implements EventStore {
  readonly log: FakeEventLog;
  readonly #now: () => Date;
  #closed = false;
  #failures: Error[] = [];

  constructor(options: { log?: FakeEventLog; now?: () => Date } = {}) {
    this.log = options.log ?? new FakeEventLog();
    this.#now = options.now ?? (() => new Date());
  }

  /** The next append fails with `error` and stores nothing (a full disk, say). */
  failNextAppend(error: Error): this {
    this.#failures.push(error);
    return this;
  }

  startRun(meta: Json, at: Date = this.#now()): Promise<string> {
    return this.#step(() => {
      const metaText = serialize(meta, "the run's meta");
      let runId = runIdFor(at);
      while (this.log.runs.some((run) => run.runId === runId)) runId = runIdFor(at);
      this.log.runs.push({ runId, startedAt: at.toISOString(), meta: metaText });
      return runId;
    });
  }

  append(runId: string, events: readonly NewEvent[]): Promise<number[]> {
    return this.#step(() => {
      const failure = this.#failures.shift();
      if (failure !== undefined) throw failure;
      if (!this.log.runs.some((run) => run.runId === runId)) throw new InternalError(`cannot append to run ${runId}: the fake event store has no such run`);
      const rows = events.map((event, index) => {
        if (event.type === "") throw new InternalError(`event ${String(index)} of the batch for run ${runId} has an empty type`);
        return { seq: this.log.nextSeq + index, runId, at: (event.at ?? this.#now()).toISOString(), type: event.type, data: serialize(event.data, `the data of event ${String(index)} (${event.type})`) };
      });
      this.log.events.push(...rows);
      this.log.nextSeq += rows.length;
      return rows.map((row) => row.seq);
    });
  }

  read(runId: string, fromSeq = 0): Promise<StoredEvent[]> {
    return this.#step(() => this.log.events.filter((event) => event.runId === runId && event.seq >= fromSeq).map(parsed));
  }

  readSince(seq: number, options: ReadSinceOptions = {}): Promise<StoredEvent[]> {
    return this.#step(() => {
      const after = this.log.events.filter((event) => event.seq > seq && (options.runId === undefined || event.runId === options.runId));
      return (options.limit === undefined ? after : after.slice(0, options.limit)).map(parsed);
    });
  }

  latestRun(): Promise<RunInfo | undefined> {
    return this.#step(() => this.#runInfos().at(-1));
  }

  runs(): Promise<RunInfo[]> {
    return this.#step(() => this.#runInfos());
  }

  /** The same log opened a second time, as `cspace status` in another terminal opens it while the coordinator writes: closing it leaves this one open. */
  anotherHandle(): EventStore {
    return {
      startRun: (meta, at) => this.startRun(meta, at),
      append: (runId, events) => this.append(runId, events),
      read: (runId, fromSeq) => this.read(runId, fromSeq),
      readSince: (seq, options) => this.readSince(seq, options),
      latestRun: () => this.latestRun(),
      runs: () => this.runs(),
      close: () => Promise.resolve(),
    };
  }

  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  #runInfos(): RunInfo[] {
    return this.log.runs.map((run) => ({
      runId: run.runId,
      startedAt: run.startedAt,
      meta: JSON.parse(run.meta) as Json,
      lastSeq: this.log.events.findLast((event) => event.runId === run.runId)?.seq,
    }));
  }

  #step<T>(step: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new InternalError("the fake event store is used after it was closed"));
    try {
      return Promise.resolve(step());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

function parsed(event: FakeEventLog["events"][number]): StoredEvent {
  return { seq: event.seq, runId: event.runId, at: event.at, type: event.type, data: JSON.parse(event.data) as Json };
}

function serialize(value: Json, what: string): string {
  let text: unknown;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new InternalError(`${what} cannot be stored as JSON: ${String(error)}`, { cause: error });
  }
  if (typeof text !== "string") throw new InternalError(`${what} cannot be stored as JSON: it is ${typeof value}`);
  return text;
}

/**
 * The coordinator lock in memory: one holder at a time, refused with the real
 * lock's message. `holderDied()` plays a kill -9 of the holder: the next
 * acquire takes over.
 */
export class FakeCoordinatorLock implements CoordinatorLock {
  #held: { holder: CoordinatorHolder; token: object } | undefined;
  #pid = 1000;

  acquire(): Promise<HeldCoordinatorLock> {
    if (this.#held !== undefined) return Promise.reject(coordinatorRunning(this.#held.holder));
    const token = {};
    const holder: CoordinatorHolder = { pid: this.#pid++, host: "fake-host", startedAt: new Date().toISOString() };
    this.#held = { holder, token };
    return Promise.resolve({
      holder,
      release: () => {
        if (this.#held?.token === token) this.#held = undefined;
        return Promise.resolve();
      },
    });
  }

  holder(): Promise<CoordinatorHolder | undefined> {
    return Promise.resolve(this.#held?.holder);
  }

  holderDied(): void {
    this.#held = undefined;
  }
}
