import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadSqlite, withoutSqliteWarning } from "../../../src/adapters/store/load-sqlite.ts";
import { migrate, MIGRATIONS, SCHEMA_VERSION } from "../../../src/adapters/store/schema.ts";
import { openSqliteEventStore } from "../../../src/adapters/store/sqlite-event-store.ts";
import { ExternalError } from "../../../src/core/errors.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";
import { startChild } from "./processes.ts";

// Through the loader, so this file prints no warning on Node 22 either.
const { DatabaseSync } = await loadSqlite();

const tempDir = useTempDirs("sqlite-store");

describe("the SQLite event store's file", () => {
  it("is made on the first write only, in a folder of the user's alone, in WAL mode with synchronous=FULL", async () => {
    const dir = path.join(await tempDir(), "data", "project-1");
    const file = path.join(dir, "coordinator.db");
    const store = await openSqliteEventStore(file);
    try {
      expect(await store.runs()).toEqual([]);
      expect(await store.readSince(0)).toEqual([]);
      expect(store.settings()).toBeUndefined();
      expect(existsSync(dir)).toBe(false);

      await store.startRun(null);
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
      expect(store.settings()).toEqual({ journalMode: "wal", synchronous: "FULL", schemaVersion: SCHEMA_VERSION });
    } finally {
      await store.close();
    }
  });

  it("refuses to change or delete an event, whoever asks", async () => {
    const file = path.join(await tempDir(), "coordinator.db");
    const store = await openSqliteEventStore(file);
    const runId = await store.startRun(null);
    await store.append(runId, [{ type: "Merged", data: { issue: 10 } }]);
    await store.close();
    const db = new DatabaseSync(file);
    try {
      expect(() => {
        db.exec("UPDATE events SET type = 'Failed'");
      }).toThrow(/append-only/);
      expect(() => {
        db.exec("DELETE FROM events");
      }).toThrow(/append-only/);
    } finally {
      db.close();
    }
  });

  it("refuses a file written by a newer cspace, naming both schema versions", async () => {
    const file = path.join(await tempDir(), "coordinator.db");
    const db = new DatabaseSync(file);
    db.exec("CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (99)");
    db.close();
    const store = await openSqliteEventStore(file);
    try {
      const reading = store.runs();
      await expect(reading).rejects.toBeInstanceOf(ExternalError);
      await expect(reading).rejects.toThrow(`schema version 99, newer than this cspace knows (${String(SCHEMA_VERSION)})`);
    } finally {
      await store.close();
    }
  });

  it("migrates an older file forward, running only the migrations after its version", async () => {
    const file = path.join(await tempDir(), "coordinator.db");
    const db = new DatabaseSync(file);
    try {
      migrate(db, file);
      db.prepare("INSERT INTO runs (run_id, started_at, meta) VALUES ('r', 'now', 'null')").run();
      const next = [...MIGRATIONS, { version: SCHEMA_VERSION + 1, sql: "ALTER TABLE runs ADD COLUMN ended_at TEXT" }];
      migrate(db, file, next);
      migrate(db, file, next);
      expect(db.prepare("SELECT run_id, ended_at FROM runs").all()).toEqual([{ run_id: "r", ended_at: null }]);
      expect(db.prepare("SELECT version FROM schema_version").all()).toEqual([{ version: SCHEMA_VERSION + 1 }]);
    } finally {
      db.close();
    }
  });
});

describe("loading node:sqlite", () => {
  it("prints nothing about SQLite on stderr, on any supported Node", async () => {
    const child = startChild(["quiet", path.join(await tempDir(), "coordinator.db")]);
    await child.line("opened");
    await child.kill9();
    expect(child.stderr()).not.toMatch(/sqlite/i);
  });

  it("drops exactly SQLite's experimental warning (Node 22 and 23 print it) and passes every other warning on", async () => {
    const seen: string[] = [];
    const listener = (warning: Error): void => {
      seen.push(`${warning.name}: ${warning.message}`);
    };
    process.on("warning", listener);
    try {
      await withoutSqliteWarning(() => {
        process.emitWarning("SQLite is an experimental feature and might change at any time", "ExperimentalWarning");
        process.emitWarning("SQLite said something else", { type: "CspaceTestWarning" });
        return Promise.resolve();
      });
      process.emitWarning("SQLite is an experimental feature and might change at any time", "CspaceTestWarning");
      // Warnings are emitted on the next tick.
      await new Promise<void>((resolve) => {
        process.nextTick(resolve);
      });
    } finally {
      process.off("warning", listener);
    }
    expect(seen).toEqual(["CspaceTestWarning: SQLite said something else", "CspaceTestWarning: SQLite is an experimental feature and might change at any time"]);
  });
});
