/**
 * `node server.mjs --port <n> [--log <path.ndjson>]`: the scripted model
 * server as a process (bundled by index.ts). Prints the URL it listens on.
 */
import { createModelServer } from "./server.ts";

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

const port = Number(flag("--port") ?? "0");
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`model-server: --port wants a port number (0 for any free one), got ${String(flag("--port"))}`);
  process.exit(2);
}
const logPath = flag("--log");
const server = await createModelServer({ port, ...(logPath === undefined ? {} : { logPath }) });
console.log(`model-server listening on ${server.url}`);
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    void server.close().then(() => process.exit(0));
  });
}
