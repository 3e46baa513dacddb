import { describe, expect, it } from "vitest";
import { UserError } from "../errors.ts";
import { checkoutVolumeName, collectRefspec, collectedRef, formatBytes, fsckFailureOf, mirrorVolumeName, pushRefspecs } from "./transport.ts";

const A = "a".repeat(40);
const B = "b".repeat(40);

describe("the workspace transport's names", () => {
  it("names a project's mirror and an instance's checkout volume as Docker allows, whatever the project's name holds", () => {
    expect(mirrorVolumeName("demo-1234abcd")).toBe("cspace-demo-1234abcd-mirror");
    expect(checkoutVolumeName("my app/é-1234abcd", "issue-7")).toBe("cspace-my_app__-1234abcd-work-issue-7");
    expect(mirrorVolumeName("my app/é-1234abcd")).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/);
  });

  it("collects one branch into one ref of the quarantine, and refuses a name git would read as something else", () => {
    expect(collectedRef("issue-3")).toBe("refs/cspace/collected/issue-3");
    expect(collectRefspec("feature/x")).toBe("+refs/heads/feature/x:refs/cspace/collected/feature/x");
    for (const bad of ["*", "a:b", "../x", "x..y", "-x", "a b"]) expect(() => collectRefspec(bad), bad).toThrow(UserError);
  });
});

describe("pushRefspecs", () => {
  it("forces each branch to its commit, once", () => {
    expect(pushRefspecs([{ name: "main", sha: A }, { name: "issue-1", sha: B }, { name: "main", sha: A }])).toEqual([`+${A}:refs/heads/main`, `+${B}:refs/heads/issue-1`]);
  });

  it("refuses a short sha, a bad name, and one name at two commits", () => {
    expect(() => pushRefspecs([{ name: "main", sha: "abc123" }])).toThrow(/not a full commit sha/);
    expect(() => pushRefspecs([{ name: "refs/*", sha: A }])).toThrow(UserError);
    expect(() => pushRefspecs([{ name: "main", sha: A }, { name: "main", sha: B }])).toThrow(/at two commits/);
  });
});

describe("formatBytes", () => {
  it("says sizes the way the cap is written", () => {
    expect(formatBytes(1024 ** 3)).toBe("1 GiB");
    expect(formatBytes(512 * 1024)).toBe("512 KiB");
    expect(formatBytes(1536 * 1024)).toBe("1.5 MiB");
    expect(formatBytes(300)).toBe("300 bytes");
  });
});

describe("fsckFailureOf", () => {
  it("names the object and the problem git's object check found", () => {
    const stderr = `error: object ${A}: badDate: invalid author/committer line - bad date\nfatal: fsck error in packed object\nfatal: index-pack failed\n`;
    expect(fsckFailureOf(stderr)).toEqual({ object: A, problem: "badDate: invalid author/committer line - bad date" });
  });

  it("says nothing about other failures", () => {
    expect(fsckFailureOf("fatal: couldn't find remote ref refs/heads/x\n")).toBeNull();
  });
});
