import path from "node:path";
import { openSqliteEventStore } from "../../src/adapters/store/sqlite-event-store.ts";
import { tempDir } from "../support/git-fixtures.ts";
import { eventStoreContract } from "./event-store-contract.ts";

eventStoreContract("SQLite (node:sqlite)", async () => {
  const root = await tempDir("cspace-event-store-");
  const file = path.join(root.dir, "data", "project-1234", "coordinator.db");
  const store = await openSqliteEventStore(file);
  const others = [store];
  return {
    store,
    async another() {
      const other = await openSqliteEventStore(file);
      others.push(other);
      return other;
    },
    async teardown() {
      await Promise.all(others.map((other) => other.close()));
      await root.remove();
    },
  };
});
