import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { CspaceError, ExternalError, InternalError } from "../../core/errors.ts";
import type { EventStore, Json, NewEvent, ReadSinceOptions, RunInfo, StoredEvent } from "../../core/coordinator-store/port.ts";
import { runIdFor } from "../../core/coordinator-store/run-id.ts";
import { loadSqlite, type SqliteModule } from "./load-sqlite.ts";
import { migrate } from "./schema.ts";

/**
 * The coordinator's event log in one SQLite file (node:sqlite, no native
 * build). Connection settings, and why:
 *
 * - journal_mode=WAL: `cspace status` reads while the coordinator writes,
 *   neither waiting for the other, and a reader sees only committed batches.
 * - synchronous=FULL: each append's commit fsyncs the WAL before append
 *   returns. A kill -9 alone would lose nothing even with NORMAL (a commit is
 *   in the OS's page cache once write() returns); FULL also keeps acknowledged
 *   events through a power cut or a kernel crash, where NORMAL may lose the
 *   last commits. The coordinator appends a few events per agent action, so
 *   one fsync each costs nothing that matters (bench/store measures it).
 *   fullfsync=ON asks macOS for a real flush (its fsync stops at the drive's
 *   cache); other platforms ignore it.
 * - busy_timeout: two writers (a coordinator and a migration, say) wait for
 *   each other instead of failing at once; readers in WAL never wait.
 * - BEGIN IMMEDIATE per batch: the write lock is taken before anything is read,
 *   so a batch never fails half-way for want of it, and commits all or nothing.
 *
 * The file is made on the first write only: a command that merely reads
 * (status in a project that never ran a coordinator) creates nothing.
 */
export interface SqliteEventStoreOptions {
  /** The clock for runs and events given no time (tests pin it). */
  readonly now?: (() => Date) | undefined;
  readonly busyTimeoutMs?: number | undefined;
  /** FULL unless a benchmark compares. */
  readonly synchronous?: "FULL" | "NORMAL" | undefined;
}

export async function openSqliteEventStore(file: string, options: SqliteEventStoreOptions = {}): Promise<SqliteEventStore> {
  return new SqliteEventStore(await loadSqlite(), file, options);
}

const EVENT_COLUMNS = "seq, run_id, at, type, data";
const RUN_QUERY = "SELECT r.run_id, r.started_at, r.meta, (SELECT max(e.seq) FROM events e WHERE e.run_id = r.run_id) AS last_seq FROM runs r";

export class SqliteEventStore implements EventStore {
  readonly file: string;
  readonly #sqlite: SqliteModule;
  readonly #options: SqliteEventStoreOptions;
  #db: DatabaseSync | undefined;
  readonly #statements = new Map<string, StatementSync>();
  #closed = false;

  constructor(sqlite: SqliteModule, file: string, options: SqliteEventStoreOptions = {}) {
    this.#sqlite = sqlite;
    this.file = file;
    this.#options = options;
  }

  startRun(meta: Json, at: Date = this.#now()): Promise<string> {
    return this.#guard("start a run in", () => {
      const db = this.#writable();
      const metaText = serialize(meta, "the run's meta");
      const insert = this.#statement(db, "INSERT OR IGNORE INTO runs (run_id, started_at, meta) VALUES (?, ?, ?)");
      // A random suffix makes a clash within one second unlikely; OR IGNORE plus a retry makes it harmless.
      for (let attempt = 0; attempt < 5; attempt++) {
        const runId = runIdFor(at);
        if (insert.run(runId, at.toISOString(), metaText).changes === 1) return runId;
      }
      throw new InternalError(`the event store ${this.file} refused five new run ids in a row`);
    });
  }

  append(runId: string, events: readonly NewEvent[]): Promise<number[]> {
    return this.#guard("append to", () => {
      const db = this.#writable();
      db.exec("BEGIN IMMEDIATE");
      try {
        if (this.#statement(db, "SELECT 1 AS found FROM runs WHERE run_id = ?").get(runId) === undefined) {
          throw new InternalError(`cannot append to run ${runId}: the event store ${this.file} has no such run`);
        }
        const insert = this.#statement(db, "INSERT INTO events (run_id, at, type, data) VALUES (?, ?, ?, ?)");
        const seqs = events.map((event, index) => {
          if (event.type === "") throw new InternalError(`event ${String(index)} of the batch for run ${runId} has an empty type`);
          const data = serialize(event.data, `the data of event ${String(index)} (${event.type})`);
          return Number(insert.run(runId, (event.at ?? this.#now()).toISOString(), event.type, data).lastInsertRowid);
        });
        db.exec("COMMIT");
        return seqs;
      } catch (error) {
        rollback(db);
        throw error;
      }
    });
  }

  read(runId: string, fromSeq = 0): Promise<StoredEvent[]> {
    return this.#guard("read", () => this.#events(`SELECT ${EVENT_COLUMNS} FROM events WHERE run_id = ? AND seq >= ? ORDER BY seq`, [runId, fromSeq]));
  }

  readSince(seq: number, options: ReadSinceOptions = {}): Promise<StoredEvent[]> {
    return this.#guard("read", () => {
      const limit = options.limit ?? -1; // SQLite: a negative LIMIT is none
      return options.runId === undefined
        ? this.#events(`SELECT ${EVENT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?`, [seq, limit])
        : this.#events(`SELECT ${EVENT_COLUMNS} FROM events WHERE seq > ? AND run_id = ? ORDER BY seq LIMIT ?`, [seq, options.runId, limit]);
    });
  }

  latestRun(): Promise<RunInfo | undefined> {
    return this.#guard("read", () => this.#runs(`${RUN_QUERY} ORDER BY r.ord DESC LIMIT 1`)[0]);
  }

  runs(): Promise<RunInfo[]> {
    return this.#guard("read", () => this.#runs(`${RUN_QUERY} ORDER BY r.ord`));
  }

  /** How the connection is set up, for doctor and tests; undefined while there is no file. */
  settings(): { journalMode: string; synchronous: "OFF" | "NORMAL" | "FULL" | "EXTRA"; schemaVersion: number } | undefined {
    const db = this.#open(false);
    if (db === undefined) return undefined;
    const journal = db.prepare("PRAGMA journal_mode").get()?.journal_mode;
    const level = db.prepare("PRAGMA synchronous").get()?.synchronous;
    const version = db.prepare("SELECT max(version) AS version FROM schema_version").get()?.version;
    return { journalMode: text(journal), synchronous: (["OFF", "NORMAL", "FULL", "EXTRA"] as const)[integer(level)] ?? "EXTRA", schemaVersion: integer(version) };
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#statements.clear();
      this.#db?.close();
      this.#db = undefined;
    }
    return Promise.resolve();
  }

  #events(sql: string, parameters: SQLInputValue[]): StoredEvent[] {
    const db = this.#open(false);
    if (db === undefined) return [];
    return this.#statement(db, sql)
      .all(...parameters)
      .map((row) => ({ seq: integer(row.seq), runId: text(row.run_id), at: text(row.at), type: text(row.type), data: JSON.parse(text(row.data)) as Json }));
  }

  #runs(sql: string): RunInfo[] {
    const db = this.#open(false);
    if (db === undefined) return [];
    return this.#statement(db, sql)
      .all()
      .map((row) => ({ runId: text(row.run_id), startedAt: text(row.started_at), meta: JSON.parse(text(row.meta)) as Json, lastSeq: row.last_seq === null ? undefined : integer(row.last_seq) }));
  }

  /** The connection, the file and its folder made if need be. */
  #writable(): DatabaseSync {
    const db = this.#open(true);
    if (db === undefined) throw new InternalError(`the event store ${this.file} was not opened for writing`);
    return db;
  }

  /** The connection, opened (and the file and its folder made, when `create`) on first use; undefined while there is no file to read. */
  #open(create: boolean): DatabaseSync | undefined {
    if (this.#closed) throw new InternalError(`the event store ${this.file} is used after it was closed`);
    if (this.#db !== undefined) return this.#db;
    if (!create && !existsSync(this.file)) return undefined;
    // The events name issues, branches and failure output: the user's alone.
    mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const db = new this.#sqlite.DatabaseSync(this.file);
    try {
      // busy_timeout first, so that switching to WAL waits for another process too.
      db.exec(`PRAGMA busy_timeout = ${String(this.#options.busyTimeoutMs ?? 10_000)}`);
      db.exec("PRAGMA journal_mode = WAL");
      db.exec(`PRAGMA synchronous = ${this.#options.synchronous ?? "FULL"}`);
      db.exec("PRAGMA fullfsync = ON");
      db.exec("PRAGMA foreign_keys = ON");
      migrate(db, this.file);
    } catch (error) {
      db.close();
      throw error;
    }
    this.#db = db;
    return db;
  }

  #statement(db: DatabaseSync, sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  /** Runs a synchronous database step as the port's promise; SQLite's own failures become ExternalErrors naming the file. */
  #guard<T>(doing: string, step: () => T): Promise<T> {
    try {
      return Promise.resolve(step());
    } catch (error) {
      if (error instanceof CspaceError) return Promise.reject(error);
      return Promise.reject(new ExternalError(`cannot ${doing} the coordinator's event store ${this.file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
    }
  }
}

/** JSON text of a value, refusing what JSON cannot carry rather than storing something else. */
function serialize(value: Json, what: string): string {
  let textValue: unknown;
  try {
    // Typed as a string, but undefined for what has no JSON form (undefined, a function), which Json excludes only at compile time.
    textValue = JSON.stringify(value);
  } catch (error) {
    throw new InternalError(`${what} cannot be stored as JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (typeof textValue !== "string") throw new InternalError(`${what} cannot be stored as JSON: it is ${typeof value}`);
  return textValue;
}

function rollback(db: DatabaseSync): void {
  try {
    db.exec("ROLLBACK");
  } catch {
    // SQLite already rolled back (a failed COMMIT can do that): nothing is left to undo.
  }
}

function text(value: unknown): string {
  if (typeof value !== "string") throw new InternalError(`the event store returned ${typeof value} where it stores text`);
  return value;
}

function integer(value: unknown): number {
  if (typeof value !== "number") throw new InternalError(`the event store returned ${typeof value} where it stores an integer`);
  return value;
}
