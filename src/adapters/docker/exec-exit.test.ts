import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import path from "node:path";
import Docker from "dockerode";
import { afterEach, describe, expect, it } from "vitest";
import { useTempDirs } from "../../../test/support/temp-dirs.ts";
import { ExternalError } from "../../core/errors.ts";
import { execExitCode } from "./exec-exit.ts";

const tempDir = useTempDirs("exec-exit");
const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) server.closeAllConnections();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

interface Engine {
  readonly docker: Docker;
  readonly asked: string[];
}

/**
 * An engine that says the exec still runs, as the real one does when asked
 * right after the exec's output ended, and tells of its end only on the
 * event stream, with `events` lines.
 */
async function racingEngine(events: (res: ServerResponse) => void): Promise<Engine> {
  const asked: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    asked.push(`${req.method ?? ""} ${decodeURIComponent(req.url ?? "")}`);
    const url = new URL(req.url ?? "/", "http://engine");
    if (url.pathname === "/exec/e1/json") {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ ID: "e1", Running: true, ExitCode: null }));
    } else if (url.pathname === "/events") {
      res.writeHead(200, { "Content-Type": "application/json" });
      events(res);
    } else {
      res.writeHead(404).end();
    }
  });
  servers.push(server);
  const socketPath = path.join(await tempDir(), "docker.sock");
  server.listen(socketPath);
  await once(server, "listening");
  return { docker: new Docker({ socketPath }), asked };
}

const line = (action: string, attributes: Record<string, string>): string => `${JSON.stringify({ Type: "container", Action: action, Actor: { ID: "c1", Attributes: attributes } })}\n`;

describe("execExitCode", () => {
  it("awaits the exec's exec_die event when the engine does not know the exit yet, and takes its exit code", async () => {
    const engine = await racingEngine((res) => {
      // Another exec of the same container ends first; then ours, split across two chunks.
      res.write(line("exec_die", { execID: "e0", exitCode: "0" }));
      const ours = line("exec_die", { execID: "e1", exitCode: "5" });
      res.write(ours.slice(0, 20));
      res.write(ours.slice(20));
    });
    expect(await execExitCode(engine.docker, "c1", engine.docker.getExec("e1"))).toBe(5);
    const subscribed = engine.asked.find((request) => request.startsWith("GET /events"));
    expect(subscribed).toContain(JSON.stringify({ type: ["container"], container: ["c1"], event: ["exec_die", "die", "destroy"] }));
    // Asked, subscribed, asked again: an exit recorded in between is not missed.
    expect(engine.asked.map((request) => request.split("?")[0])).toEqual(["GET /exec/e1/json", "GET /events", "GET /exec/e1/json"]);
  });

  it("says the exit code is unknown when the container stopped under the exec, and when the event stream ends first", async () => {
    const died = await racingEngine((res) => res.write(line("die", { exitCode: "137" })));
    const stopped = execExitCode(died.docker, "c1", died.docker.getExec("e1"));
    await expect(stopped).rejects.toThrow(ExternalError);
    await expect(stopped).rejects.toThrow(/stopped while a command ran in it: its exit code is unknown/);
    const ended = await racingEngine((res) => res.end());
    await expect(execExitCode(ended.docker, "c1", ended.docker.getExec("e1"))).rejects.toThrow(/event stream ended before the exec/);
  });
});
