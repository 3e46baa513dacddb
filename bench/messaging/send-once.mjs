// The floor under `cspace send`, in bare Node: connect to a worker's socket,
// write one protocol v1 `send`, read its reply line, exit (0 when queued).
//   node send-once.mjs <socket> <text>
import { createConnection } from "node:net";

const [socketPath, text] = process.argv.slice(2);
const socket = createConnection(socketPath);
let buffered = "";
socket.setEncoding("utf8");
socket.on("connect", () => {
  socket.write(`${JSON.stringify({ v: 1, id: "1", cmd: "send", text, from: "host" })}\n`);
});
socket.on("data", (chunk) => {
  buffered += chunk;
  const end = buffered.indexOf("\n");
  if (end === -1) return;
  const reply = JSON.parse(buffered.slice(0, end));
  process.exitCode = reply.ok === true && reply.queued === true ? 0 : 1;
  socket.destroy();
});
socket.on("error", (error) => {
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
});
