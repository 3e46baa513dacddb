import { describe, expect, it } from "vitest";
import { ForgeUnavailableError, RateLimitedError } from "../../src/core/forge/errors.ts";
import { FakeForge } from "../fakes/forge.ts";
import { issue } from "../fakes/issues.ts";
import { forgeContract } from "./forge-contract.ts";

forgeContract("in-memory fake", () => {
  const fake = new FakeForge();
  return Promise.resolve({ forge: fake, seed: fake.seed, repository: fake.repository, teardown: () => Promise.resolve() });
});

describe("the fake forge's faults", () => {
  it("fails the next call of one method with the given error, then answers again", async () => {
    const fake = new FakeForge().addIssues([issue(1)]);
    const outage = new ForgeUnavailableError("the forge is down");
    fake.failNext("getIssue", outage);
    await expect(fake.getIssue(1)).rejects.toBe(outage);
    expect((await fake.getIssue(1)).number).toBe(1);
    expect(fake.callsOf("getIssue")).toEqual([[1], [1]]);
  });

  it("fails a given number of calls, or every call until cleared, leaving other methods alone", async () => {
    const fake = new FakeForge().addIssues([issue(1)]);
    const limited = new RateLimitedError("slow down", { retryAt: new Date(0) });
    fake.failNext("listIssues", limited, { times: 2 }).failAlways("defaultBranch", new ForgeUnavailableError("down"));
    await expect(fake.listIssues({})).rejects.toBe(limited);
    await expect(fake.listIssues({})).rejects.toBe(limited);
    expect((await fake.listIssues({})).issues).toHaveLength(1);
    for (let i = 0; i < 3; i++) await expect(fake.defaultBranch()).rejects.toBeInstanceOf(ForgeUnavailableError);
    expect(await fake.getIssue(1)).toMatchObject({ number: 1 });
    fake.clearFaults();
    expect(await fake.defaultBranch()).toBe("main");
  });
});
