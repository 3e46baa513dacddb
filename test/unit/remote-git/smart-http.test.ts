import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bearsToken } from "../../support/github-simulator/authorization.ts";
import { startGithubSimulator, type GithubSimulator } from "../../support/github-simulator/server.ts";
import { simulatorSeed } from "../../support/github-simulator/seed.ts";

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("the GitHub simulator's smart HTTP endpoint", () => {
  let sim: GithubSimulator;
  beforeEach(async () => {
    sim = await startGithubSimulator({ repo: "octo/widgets" });
    await simulatorSeed(sim).commit("main", { "README.md": "hi\n" }, "initial");
  });
  afterEach(async () => {
    await sim.close();
  });

  const refs = (authorization?: string, repo = "octo/widgets") =>
    fetch(`${sim.url}/${repo}.git/info/refs?service=git-receive-pack`, { headers: authorization === undefined ? {} : { authorization } });

  it("is served at <api url>/<owner>/<name>.git", () => {
    expect(sim.gitUrl).toBe(`${sim.url}/octo/widgets.git`);
  });

  it("answers 401 with a Basic challenge without the token, or with a wrong one", async () => {
    for (const authorization of [undefined, basic("x-access-token", "wrong"), `token wrong`]) {
      const response = await refs(authorization);
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe('Basic realm="GitHub"');
    }
    expect(sim.gitRequests.map((r) => r.status)).toEqual([401, 401, 401]);
  });

  it("runs git http-backend for the token (Basic with any user, or as the API takes it), and 404s another repository", async () => {
    for (const authorization of [basic("x-access-token", sim.token), basic("anyone", sim.token), `Bearer ${sim.token}`]) {
      const response = await refs(authorization);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/x-git-receive-pack-advertisement");
      expect(await response.text()).toContain("refs/heads/main");
    }
    expect((await refs(basic("x", sim.token), "octo/other")).status).toBe(404);
    expect(sim.requests).toEqual([]);
    sim.assertNoViolations();
  });
});

describe("bearsToken", () => {
  it.each([
    ["token t0k", true],
    ["Token t0k", true],
    ["bearer t0k", true],
    ["Bearer t0k", true],
    [basic("x-access-token", "t0k"), true],
    [basic("", "t0k"), true],
    [basic("t0k", ""), false],
    [`Basic ${Buffer.from("t0k").toString("base64")}`, false],
    ["token other", false],
    ["t0k", false],
  ])("%s → %s", (header, expected) => {
    expect(bearsToken(header, "t0k")).toBe(expected);
  });
});
