import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadGithubDescription } from "../support/github-simulator/openapi.ts";
import { simulatorSeed } from "../support/github-simulator/seed.ts";
import { startGithubSimulator, type GithubSimulator } from "../support/github-simulator/server.ts";

describe("GitHub simulator", () => {
  let sim: GithubSimulator;
  beforeEach(async () => {
    sim = await startGithubSimulator({ repo: "octo/widgets" });
  });
  afterEach(async () => {
    await sim.close();
  });

  const send = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${sim.url}${path}`, {
      method,
      headers: { authorization: `token ${sim.token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.text()) === "" ? null : true };
  };

  it("rejects pulls.create without a head, answers 422 and records the violation", async () => {
    const { status } = await send("POST", "/repos/octo/widgets/pulls", { base: "main", title: "x" });
    expect(status).toBe(422);
    expect(sim.violations.join("\n")).toMatch(/pulls\/create.*must have required property 'head'/);
    expect(() => {
      sim.assertNoViolations();
    }).toThrow(/1 violation/);
  });

  it("rejects a query parameter outside its enum", async () => {
    expect((await send("GET", "/repos/octo/widgets/pulls?state=bogus&head=octo:x")).status).toBe(422);
    expect(sim.violations.join("\n")).toMatch(/pulls\/list.*\/query\/state must be equal to one of the allowed values/);
  });

  it("rejects a request that matches no operation of the description", async () => {
    expect((await send("POST", "/repos/octo/widgets/merge-everything", {})).status).toBe(400);
    expect(sim.violations.join("\n")).toMatch(/matches no operation/);
  });

  it("accepts well-formed requests and records them by operation", async () => {
    await simulatorSeed(sim).commit("main", { "README.md": "hi\n" }, "initial");
    expect((await send("GET", "/repos/octo/widgets")).status).toBe(200);
    expect((await send("GET", "/repos/octo/widgets/pulls?state=all&head=octo:main")).status).toBe(200);
    expect(sim.requests.map((r) => r.operationId)).toEqual(["repos/get", "pulls/list"]);
    sim.assertNoViolations();
  });

  it("decodes URL-encoded ref names", async () => {
    const sha = await simulatorSeed(sim).commit("main", { "README.md": "hi\n" }, "initial");
    expect((await send("POST", "/repos/octo/widgets/git/refs", { ref: "refs/heads/feature/x", sha })).status).toBe(201);
    expect(await sim.world.git.resolve("refs/heads/feature/x")).toBe(sha);
    expect((await send("GET", "/repos/octo/widgets/git/ref/heads%2Ffeature%2Fx")).status).toBe(200);
    expect((await send("DELETE", "/repos/octo/widgets/git/refs/heads%2Ffeature%2Fx")).status).toBe(204);
    expect(await sim.world.git.resolve("refs/heads/feature/x")).toBeNull();
    sim.assertNoViolations();
  });

  it("refuses a wrong token with 401 Bad credentials", async () => {
    const response = await fetch(`${sim.url}/repos/octo/widgets`, { headers: { authorization: "token nope" } });
    expect(response.status).toBe(401);
  });
});

describe("GitHub's description as the simulator loads it", () => {
  it("flags response fields the schema does not declare, and fields of the wrong type", async () => {
    const { checkResponse } = await loadGithubDescription();
    // List items are pull-request-simple: no `merged` there.
    expect(checkResponse("pulls/list", 200, [{ number: 1, merged: true }])).toEqual([expect.stringMatching(/\/0\/merged is not declared/)]);
    expect(checkResponse("pulls/get", 200, { number: "one" }).join("\n")).toMatch(/\/number must be integer/);
    expect(checkResponse("pulls/get", 200, { number: 1, merged: false, mergeable: null })).toEqual([]);
  });
});
