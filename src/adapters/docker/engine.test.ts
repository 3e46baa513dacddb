import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ExternalError, UserError } from "../../core/errors.ts";
import { connectDocker, dockerEndpoint, engineVersion } from "./engine.ts";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("dockerEndpoint", () => {
  it("uses the system socket when DOCKER_HOST is unset or empty", () => {
    const home = "/nonexistent-home";
    for (const env of [{ HOME: home }, { HOME: home, DOCKER_HOST: "" }, { HOME: home, DOCKER_HOST: "unix://" }]) {
      const endpoint = dockerEndpoint(env);
      expect(endpoint.url).toBe("unix:///var/run/docker.sock");
      expect(endpoint.fromEnv).toBe(false);
      expect(endpoint.options).toMatchObject({ socketPath: "/var/run/docker.sock", host: undefined });
    }
  });

  it("reads a unix:// DOCKER_HOST from the environment it is given, not from process.env", () => {
    const endpoint = dockerEndpoint({ DOCKER_HOST: "unix:///tmp/elsewhere/docker.sock" });
    expect(endpoint).toMatchObject({ url: "unix:///tmp/elsewhere/docker.sock", fromEnv: true });
    // Explicitly unset, so docker-modem cannot fill them from process.env's DOCKER_HOST.
    expect(endpoint.options).toHaveProperty("host", undefined);
    expect(endpoint.options.socketPath).toBe("/tmp/elsewhere/docker.sock");
  });

  it("reads tcp:// with or without the scheme, choosing TLS by DOCKER_TLS_VERIFY or port 2376", () => {
    expect(dockerEndpoint({ DOCKER_HOST: "tcp://build-box:2375" }).options).toMatchObject({
      host: "build-box",
      port: "2375",
      protocol: "http",
      socketPath: undefined,
    });
    expect(dockerEndpoint({ DOCKER_HOST: "build-box:2376" }).options).toMatchObject({ host: "build-box", protocol: "https" });
    expect(dockerEndpoint({ DOCKER_HOST: "tcp://10.0.0.5:4000", DOCKER_TLS_VERIFY: "1" }).options.protocol).toBe("https");
    expect(dockerEndpoint({ DOCKER_HOST: "tcp://[::1]:2375" }).options.host).toBe("::1");
  });

  it("reads ssh:// with its user", () => {
    expect(dockerEndpoint({ DOCKER_HOST: "ssh://ada@build-box" }).options).toMatchObject({
      protocol: "ssh",
      host: "build-box",
      username: "ada",
      port: 22,
    });
  });

  it("refuses a DOCKER_HOST that names no Docker endpoint, saying what is valid", () => {
    expect(() => dockerEndpoint({ DOCKER_HOST: "ftp://x" })).toThrow(UserError);
    expect(() => dockerEndpoint({ DOCKER_HOST: "ftp://x" })).toThrow(/DOCKER_HOST is "ftp:\/\/x".*expected unix:\/\/\/path/);
  });
});

describe("engineVersion", () => {
  it("fails fast with the endpoint named when nothing listens on the socket", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "cspace-engine-"));
    dirs.push(dir);
    const endpoint = dockerEndpoint({ DOCKER_HOST: `unix://${path.join(dir, "nothing.sock")}` });
    const attempt = engineVersion(connectDocker(endpoint, { timeoutMs: 2_000 }), endpoint, 2_000);
    await expect(attempt).rejects.toThrow(ExternalError);
    await expect(attempt).rejects.toThrow(`no Docker engine at ${endpoint.url}: the socket does not exist`);
  });
});
