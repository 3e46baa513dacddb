import type { DatabaseSync } from "node:sqlite";
import { ExternalError } from "../../core/errors.ts";

/**
 * The event store's schema, as numbered migrations applied in order. A
 * database records the last one applied in `schema_version`; opening it runs
 * the ones after that in one transaction, so a process that opens it at the
 * same time waits and then finds the work done. Never edit a migration that
 * has shipped: add the next one.
 */
export const MIGRATIONS: readonly { readonly version: number; readonly sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE runs (
        ord        INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id     TEXT NOT NULL UNIQUE,
        started_at TEXT NOT NULL,
        meta       TEXT NOT NULL CHECK (json_valid(meta))
      );
      -- AUTOINCREMENT: a seq is never handed out twice, so a reader resuming
      -- from the last seq it saw can trust there is nothing new below it.
      CREATE TABLE events (
        seq    INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES runs (run_id),
        at     TEXT NOT NULL,
        type   TEXT NOT NULL CHECK (type <> ''),
        data   TEXT NOT NULL CHECK (json_valid(data))
      );
      CREATE INDEX events_by_run ON events (run_id, seq);
      -- Append-only, whoever writes: the log is the coordinator's memory.
      CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'coordinator events are append-only'); END;
      CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'coordinator events are append-only'); END;
    `,
  },
];

export const SCHEMA_VERSION = Math.max(...MIGRATIONS.map((migration) => migration.version));

/** Brings the database to SCHEMA_VERSION; refuses one written by a newer cspace. */
export function migrate(db: DatabaseSync, file: string, migrations: typeof MIGRATIONS = MIGRATIONS): void {
  const latest = Math.max(...migrations.map((migration) => migration.version));
  // Reading first: a reader opening an up-to-date database takes no write lock.
  if (currentVersion(db, file, latest) === latest) return;
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    const from = currentVersion(db, file, latest);
    for (const migration of migrations) {
      if (migration.version > from) db.exec(migration.sql);
    }
    db.exec("DELETE FROM schema_version");
    db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(latest);
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

function currentVersion(db: DatabaseSync, file: string, latest: number): number {
  const table = db.prepare("SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get();
  if (table === undefined) return 0;
  const row = db.prepare("SELECT max(version) AS version FROM schema_version").get();
  const version = typeof row?.version === "number" ? row.version : 0;
  if (version > latest) {
    throw new ExternalError(`the coordinator's event store ${file} has schema version ${String(version)}, newer than this cspace knows (${String(latest)})`, {
      hint: "a newer cspace wrote it: upgrade cspace, or move the file aside to start afresh",
    });
  }
  return version;
}
