import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { checkGithubAuth } from "./auth-check.ts";

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A local HTTP server standing in for GitHub's two endpoints doctor calls. */
async function api(handler: Handler): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

const github: Handler = (request, response) => {
  if (request.headers.authorization !== "token good") {
    json(response, 401, { message: "Bad credentials" });
  } else if (request.url === "/user") {
    json(response, 200, { login: "ada" });
  } else if (request.url === "/repos/acme/app") {
    json(response, 200, { full_name: "acme/app", private: true, permissions: { push: true }, allow_squash_merge: false });
  } else {
    json(response, 404, { message: "Not Found" });
  }
};

describe("checkGithubAuth", () => {
  it("signs in and finds the repository", async () => {
    const apiUrl = await api(github);
    expect(await checkGithubAuth({ token: "good", repo: "acme/app", apiUrl, timeoutMs: 5_000 })).toEqual({
      ok: true,
      login: "ada",
      repo: { fullName: "acme/app", private: true, canPush: true, allowSquashMerge: false },
    });
  });

  it("says a refused token is refused", async () => {
    const apiUrl = await api(github);
    expect(await checkGithubAuth({ token: "stale", repo: "acme/app", apiUrl, timeoutMs: 5_000 })).toMatchObject({
      ok: false,
      login: null,
      reason: expect.stringContaining("401 Bad credentials") as unknown,
    });
  });

  it("says a repository the token cannot see is not found, naming who looked", async () => {
    const apiUrl = await api(github);
    expect(await checkGithubAuth({ token: "good", repo: "acme/secret", apiUrl, timeoutMs: 5_000 })).toEqual({
      ok: false,
      login: "ada",
      reason: "repository acme/secret is not found, or ada has no access to it",
    });
  });

  it("gives up after the timeout when the API does not answer", async () => {
    const apiUrl = await api(() => undefined);
    const result = await checkGithubAuth({ token: "good", repo: "acme/app", apiUrl, timeoutMs: 300 });
    expect(result).toMatchObject({ ok: false, reason: `cannot sign in at ${apiUrl}: no answer within 0.3 s` });
  });
});
