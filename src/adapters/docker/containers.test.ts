import { execFile } from "node:child_process";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { ExternalError } from "../../core/errors.ts";
import { useTempDirs } from "../../../test/support/temp-dirs.ts";
import { DockerRuntime } from "./containers.ts";
import { dockerEndpoint } from "./endpoint.ts";
import { engineHttpFor } from "./engine-http.ts";

const tempDir = useTempDirs("docker-runtime");
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A stand-in engine answering a few Engine API routes, and what it was asked. */
async function fakeEngine(listen: { socketPath: string } | { port: 0; host: "127.0.0.1" }, handler: Handler): Promise<{ env: NodeJS.ProcessEnv; asked: string[] }> {
  const asked: string[] = [];
  const server = createServer((req, res) => {
    asked.push(`${req.method ?? ""} ${req.url ?? ""}`);
    handler(req, res);
  });
  servers.push(server);
  if ("socketPath" in listen) server.listen(listen.socketPath);
  else server.listen(listen.port, listen.host);
  await once(server, "listening");
  const address = server.address();
  const env = "socketPath" in listen ? { DOCKER_HOST: `unix://${listen.socketPath}` } : { DOCKER_HOST: `tcp://127.0.0.1:${String((address as AddressInfo).port)}` };
  return { env, asked };
}

const CONTAINER = {
  Id: "0123456789abcdef",
  Names: ["/cspace-p-issue-1"],
  State: "running",
  Labels: { "dev.cspace.project": "p", "dev.cspace.instance": "issue-1" },
  Image: "cspace-base:bookworm",
  Created: 1_700_000_000,
};

function engine(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://engine");
  const reply = (status: number, body: unknown): void => {
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
  };
  if (url.pathname === "/_ping") {
    res.end("OK");
  } else if (url.pathname === "/containers/json") {
    reply(200, [CONTAINER]);
  } else if (url.pathname === "/containers/cspace-p-issue-1/json") {
    reply(200, {
      Id: CONTAINER.Id,
      Name: "/cspace-p-issue-1",
      State: { Status: "exited" },
      Config: { Labels: CONTAINER.Labels, Image: CONTAINER.Image, Env: ["A=1"] },
      Created: "2026-01-02T03:04:05Z",
    });
  } else if (url.pathname === "/images/ghcr.io/acme/img:1/json") {
    reply(200, { Id: "sha256:1" });
  } else if (url.pathname.startsWith("/containers/") || url.pathname.startsWith("/images/")) {
    reply(404, { message: "No such object" });
  } else {
    reply(500, { message: "the engine is unwell" });
  }
}

describe("DockerRuntime's reading operations", () => {
  it("list, inspect and check images over a unix socket named by DOCKER_HOST", async () => {
    const socketPath = path.join(await tempDir(), "docker.sock");
    const { env, asked } = await fakeEngine({ socketPath }, engine);
    const runtime = new DockerRuntime(env);
    await runtime.ping();
    expect(await runtime.list({ "dev.cspace.project": "p" })).toEqual([
      { id: CONTAINER.Id, name: "cspace-p-issue-1", state: "running", labels: CONTAINER.Labels, image: CONTAINER.Image, createdAt: "2023-11-14T22:13:20.000Z" },
    ]);
    expect(asked).toContain(`GET /containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: ["dev.cspace.project=p"] }))}`);
    expect(await runtime.inspect("cspace-p-issue-1")).toMatchObject({ id: CONTAINER.Id, name: "cspace-p-issue-1", state: "exited", env: ["A=1"] });
    expect(await runtime.inspect("gone")).toBeNull();
    expect(await runtime.hasImage("ghcr.io/acme/img:1")).toBe(true);
    expect(await runtime.hasImage("missing:latest")).toBe(false);
  });

  it("reach a tcp:// engine without TLS the same way", async () => {
    const { env } = await fakeEngine({ port: 0, host: "127.0.0.1" }, engine);
    const runtime = new DockerRuntime(env);
    await runtime.ping();
    expect((await runtime.list({})).map((c) => c.name)).toEqual(["cspace-p-issue-1"]);
  });

  it("report the engine's own message when it fails", async () => {
    const socketPath = path.join(await tempDir(), "docker.sock");
    const { env } = await fakeEngine({ socketPath }, (_req, res) => {
      res.writeHead(500, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ message: "the engine is unwell" }));
    });
    const attempt = new DockerRuntime(env).list({});
    await expect(attempt).rejects.toThrow(ExternalError);
    await expect(attempt).rejects.toThrow("cannot list containers: the engine is unwell");
  });

  it("say that no engine listens, naming the endpoint, when the socket is missing", async () => {
    const socketPath = path.join(await tempDir(), "nothing.sock");
    await expect(new DockerRuntime({ DOCKER_HOST: `unix://${socketPath}` }).ping()).rejects.toThrow(`no Docker engine at unix://${socketPath}: the socket does not exist`);
  });

  it("leave ssh:// and TLS endpoints to dockerode", () => {
    expect(engineHttpFor(dockerEndpoint({ DOCKER_HOST: "ssh://ada@build-box" }))).toBeNull();
    expect(engineHttpFor(dockerEndpoint({ DOCKER_HOST: "tcp://build-box:2376" }))).toBeNull();
    expect(engineHttpFor(dockerEndpoint({ DOCKER_HOST: "tcp://build-box:4000", DOCKER_TLS_VERIFY: "1" }))).toBeNull();
    expect(engineHttpFor(dockerEndpoint({ DOCKER_HOST: "tcp://build-box:2375" }))).not.toBeNull();
  });

  // dockerode loads some 650 modules (ssh2, grpc-js, protobufjs) before its first request: `cspace list` must not pay that.
  it("never load dockerode, so that `cspace list` starts fast", async () => {
    const socketPath = path.join(await tempDir(), "docker.sock");
    const { env } = await fakeEngine({ socketPath }, engine);
    const moduleUrl = new URL("./containers.ts", import.meta.url).href;
    const script = `
      import { registerHooks } from "node:module";
      const loaded = [];
      registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
      const { DockerRuntime } = await import(${JSON.stringify(moduleUrl)});
      const runtime = new DockerRuntime(process.env);
      await runtime.ping();
      const found = await runtime.list({});
      await runtime.inspect("cspace-p-issue-1");
      process.stdout.write(JSON.stringify({ found: found.length, dockerode: loaded.filter((u) => u.includes("/node_modules/dockerode/")).length }));
    `;
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, ...env }, cwd: fileURLToPath(new URL(".", import.meta.url)) }, (error, out, err) => {
        if (error === null) resolve(out);
        else reject(new Error(`${error.message}\n${err}`));
      });
    });
    expect(JSON.parse(stdout)).toEqual({ found: 1, dockerode: 0 });
  });
});
