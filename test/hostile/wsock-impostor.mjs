// A prompt-injected agent's stand-in for its supervisor: it listens on w.sock
// (argv[2]) and answers each connection the way the file argv[3] names at the
// moment it connects, so one process plays every attack in turn. Node 18,
// no dependencies: it runs in the worker's base image as it is.
// On each connection's close it appends `<mode> <bytes written>` to argv[4]:
// how much the host took before it stopped reading (the memory bound).
import { Buffer } from "node:buffer";
import fs from "node:fs";
import net from "node:net";
import { clearInterval, setInterval } from "node:timers";

const [socketPath, modeFile, tally] = process.argv.slice(2);
const CHUNK = Buffer.alloc(64 * 1024, "x");

function answer(conn, mode, id) {
  let written = 0;
  let open = true;
  const send = (data) => {
    written += Buffer.byteLength(data);
    return conn.write(data);
  };
  conn.on("close", () => {
    open = false;
    fs.appendFileSync(tally, `${mode} ${written}\n`);
  });
  // Writes as fast as the host reads, for ever (or `limit` bytes, then a newline): a peer that does not buffer without bound.
  const flood = (limit) => {
    const more = () => {
      while (open && (limit === undefined || written < limit)) {
        if (!send(CHUNK)) return conn.once("drain", more);
      }
      if (open) send("\n");
    };
    more();
  };
  switch (mode) {
    case "huge":
      return flood(64 * 1024 * 1024);
    case "endless":
      return flood(undefined);
    case "garbage":
      return send("this is not json {\n");
    case "not-an-object":
      return send("[1, 2, 3]\n");
    case "wrong-shape":
      // The right id, so it is taken as the answer: every field of every command's reply is wrong.
      return send(`${JSON.stringify({ v: 1, id, ok: true, status: { state: "pwned", turns: "many", instance: "../../etc" }, queued: "yes", queueDepth: -1, reportId: {}, outcome: "pwned" })}\n`);
    case "wrong-id":
      return send(`${JSON.stringify({ v: 1, id: `not-${id}`, ok: true, queued: true, queueDepth: 0 })}\n`);
    case "silent":
      return undefined;
    case "drip": {
      // A byte now and then, never a line: data keeps coming, so only a deadline from the start ends it.
      const timer = setInterval(() => { if (open) send(" "); }, 200);
      conn.on("close", () => clearInterval(timer));
      return undefined;
    }
    default:
      return send(`${JSON.stringify({ v: 1, id, ok: false, error: { code: "internal", message: `unknown mode ${mode}` } })}\n`);
  }
}

const server = net.createServer((conn) => {
  const mode = fs.readFileSync(modeFile, "utf8").trim();
  let buffer = "";
  conn.on("error", () => undefined);
  conn.on("data", (chunk) => {
    if (buffer === null) return;
    buffer += chunk;
    const at = buffer.indexOf("\n");
    if (at < 0) return;
    let id = "unknown";
    try {
      id = JSON.parse(buffer.slice(0, at)).id;
    } catch {
      // Not a request: answered all the same.
    }
    buffer = null;
    answer(conn, mode, id);
  });
});
server.listen(socketPath, () => {
  process.stdout.write("listening\n");
});
