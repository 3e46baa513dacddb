// One client process of the throughput figures (started by run.ts):
//   node load.ts <socket> <messages> <in flight> <tag>
// Connects, sends a few unmeasured messages, prints "ready", waits for a line
// on stdin (every client is told to go at once), sends <messages> `send`
// requests with at most <in flight> unanswered, and prints one JSON line:
// when it started and ended (ms since the epoch, sub-millisecond) and how many.
import { createInterface } from "node:readline";
import { Connection, drive } from "./connection.ts";

const [socketPath, messages, inFlight, tag] = process.argv.slice(2);
if (socketPath === undefined || messages === undefined || inFlight === undefined || tag === undefined) {
  process.stderr.write("usage: node load.ts <socket> <messages> <in flight> <tag>\n");
  process.exit(2);
}
const count = Number(messages);
const window = Number(inFlight);
const now = (): number => performance.timeOrigin + performance.now();
const text = (index: number): string => `bench ${tag} message ${String(index)}`;

const connection = await Connection.open(socketPath);
await drive(connection, 50, window, (index) => ({ cmd: "send", text: text(-index - 1), from: "bench" }));
process.stdout.write("ready\n");
const lines = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => lines.once("line", () => { resolve(); }));
lines.close();
const startedAt = now();
await drive(connection, count, window, (index) => ({ cmd: "send", text: text(index), from: "bench" }));
const endedAt = now();
connection.close();
process.stdout.write(`${JSON.stringify({ startedAt, endedAt, count })}\n`);
