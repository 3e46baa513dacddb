// The yardstick for `cspace list`: what `docker ps` does, in bare Node: one
// GET /containers/json (filtered by label, as list asks) over the engine's
// socket (DOCKER_HOST unix:// or tcp://, else /var/run/docker.sock), then exit.
import { Buffer } from "node:buffer";
import { request } from "node:http";

const host = process.env.DOCKER_HOST ?? "";
const target = host.startsWith("tcp://")
  ? { host: new URL(host).hostname, port: Number(new URL(host).port || 2375) }
  : { socketPath: host.startsWith("unix://") && host.length > 7 ? host.slice(7) : "/var/run/docker.sock" };
const filters = encodeURIComponent(JSON.stringify({ label: [`dev.cspace.project=${process.argv[2] ?? "none"}`] }));
const req = request({ ...target, path: `/containers/json?all=1&filters=${filters}`, agent: false }, (res) => {
  const chunks = [];
  res.on("data", (chunk) => chunks.push(chunk));
  res.on("end", () => {
    JSON.parse(Buffer.concat(chunks).toString("utf8"));
    process.exitCode = res.statusCode === 200 ? 0 : 1;
  });
});
req.on("error", (error) => {
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
});
req.end();
