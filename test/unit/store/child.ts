// A process for the store's cross-process tests: it does one thing with the
// store or the lock, says so on stdout (one line per step, written before the
// next step starts: stdout to a pipe is synchronous on Linux and macOS), then
// stays alive until the test kills it, so the test waits on lines, never on time.
import { acquireCoordinatorLock } from "../../../src/adapters/store/coordinator-lock.ts";
import { openSqliteEventStore } from "../../../src/adapters/store/sqlite-event-store.ts";
import type { Json } from "../../../src/core/coordinator-store/port.ts";

const [mode = "", target = "", size = "1"] = process.argv.slice(2);
const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

switch (mode) {
  case "append": {
    const store = await openSqliteEventStore(target);
    const runId = await store.startRun({ child: process.pid });
    const seqs = await store.append(runId, [
      { type: "Launched", data: { issue: 10 } },
      { type: "Reported", data: { issue: 10, ok: true } },
      { type: "Merged", data: { issue: 10, sha: "abc123" } },
    ]);
    say(`appended ${runId} ${JSON.stringify(seqs)}`);
    break;
  }
  case "big-batch": {
    const store = await openSqliteEventStore(target);
    const runId = await store.startRun(null);
    const count = Number(size);
    // toJSON runs as the store serialises each event inside its transaction:
    // the line halfway through says the batch is half written, not yet committed.
    const batch = Array.from({ length: count }, (_, index) => ({
      type: "Big",
      data: {
        toJSON() {
          if (index === Math.floor(count / 2)) say(`halfway ${runId}`);
          return { index };
        },
      } as unknown as Json,
    }));
    await store.append(runId, batch);
    say("appended");
    break;
  }
  case "write-loop": {
    const store = await openSqliteEventStore(target);
    const runId = await store.startRun(null);
    const of = Number(size);
    say(`writing ${runId}`);
    // Until killed.
    for (let batch = 0; batch < Number.MAX_SAFE_INTEGER; batch++) {
      await store.append(runId, Array.from({ length: of }, (_, index) => ({ type: "Part", data: { batch, index, of } })));
    }
    break;
  }
  case "quiet": {
    const store = await openSqliteEventStore(target);
    await store.startRun(null);
    await store.close();
    // A warning is printed from a process.nextTick callback; those all run before the next macrotask.
    await new Promise<void>((resolve) => setImmediate(resolve));
    say("opened");
    break;
  }
  case "lock": {
    const held = await acquireCoordinatorLock(target);
    say(`locked ${String(held.holder.pid)}`);
    break;
  }
  default:
    throw new Error(`unknown mode ${mode}`);
}
// Alive until killed: the point is what a kill -9 leaves behind.
setInterval(() => undefined, 60_000);
