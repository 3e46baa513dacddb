import { describe, expect, it } from "vitest";
import { ForgeUnavailableError } from "../../src/core/forge/errors.ts";
import { FakeBranchMover } from "../fakes/branch-mover.ts";
import { remoteGitContract } from "./remote-git-contract.ts";
import { fakeWorld } from "./remote-git-worlds.ts";

remoteGitContract("in-memory fake", () => Promise.resolve(fakeWorld()));

describe("the fake branch mover's knobs", () => {
  it("reports forced conflicts from restack and predictConflicts alike, leaving the branch alone", async () => {
    const fake = new FakeBranchMover();
    const main = fake.remoteCommit("main", { "a.txt": "a\n" }, "initial");
    const a = fake.remoteCommit("issue-1", { "b.txt": "b\n" }, "A", main);
    const b = fake.remoteCommit("issue-2", { "c.txt": "c\n" }, "B", a);
    const s = fake.squashMerge("issue-1", "main");
    fake.forceConflicts("issue-2", ["z.txt", "c.txt"]);
    expect(await fake.restack({ branch: "issue-2", oldParentHead: a, onto: s })).toEqual({ ok: false, conflicts: ["c.txt", "z.txt"] });
    expect(await fake.predictConflicts({ branch: "issue-2", onto: "main" })).toEqual(["c.txt", "z.txt"]);
    expect(fake.remote.get("issue-2")).toBe(b);
  });

  it("fails the next call of a method with the given error, then answers again, recording every call", async () => {
    const fake = new FakeBranchMover();
    fake.remoteCommit("main", { "a.txt": "a\n" }, "initial");
    const outage = new ForgeUnavailableError("down");
    fake.failNext("fetch", outage);
    await expect(fake.fetch(["main"])).rejects.toBe(outage);
    expect((await fake.fetch(["main"])).get("main")).toBe(fake.remote.get("main"));
    expect(fake.calls.map((c) => c.method)).toEqual(["fetch", "fetch"]);
  });
});
