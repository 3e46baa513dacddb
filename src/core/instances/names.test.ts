import { describe, expect, it } from "vitest";
import { UserError } from "../errors.ts";
import { projectId } from "../run-dir.ts";
import { COORDINATOR_INSTANCE, containerNameFor, issueInstanceName, quoteForMessage, validateInstanceName } from "./names.ts";
import { userErrorFrom } from "../../../test/support/errors.ts";

const DOCKER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

describe("validateInstanceName", () => {
  it.each(["issue-12", "a", "0", "web.api_2", "x".repeat(63)])("accepts %j", (name) => {
    expect(validateInstanceName(name)).toBe(name);
  });

  it.each([
    ["", '""'],
    ["../x", '"../x"'],
    ["a;b", '"a;b"'],
    ["a/b", '"a/b"'],
    ["-lead", '"-lead"'],
    [".hidden", '".hidden"'],
    ["Issue-1", '"Issue-1"'],
    ["a b", '"a b"'],
    ["x".repeat(64), "(64 characters)"],
    ["x".repeat(200), '"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…" (200 characters)'],
    ["issue\u2010", '"issue\\u2010"'], // a Unicode hyphen that looks like "-"
    ["\u0430bc", '"\\u0430bc"'], // Cyrillic "a"
    ["a\u001b[31mred", '"a\\u001b[31mred"'],
    ["a\nb", '"a\\u000ab"'],
    ["emoji\u{1F600}", '"emoji\\ud83d\\ude00"'],
  ])("refuses %j, showing it as %s and the rule", (name, shown) => {
    const error = userErrorFrom(() => validateInstanceName(name));
    expect(error.message).toContain(shown);
    expect(error.message).toContain("1 to 63 characters");
    // Only the cut mark is non-ASCII: everything received is escaped.
    expect(Array.from(error.message.replace("…", "")).every((c) => c >= " " && c <= "~")).toBe(true);
  });

  // The name is also the workspace's branch: what `git check-ref-format --branch` refuses must fail here, not in git.
  it.each([
    ["a..b", 'contain ".."'],
    ["a...b", 'contain ".."'],
    ["a.", 'end with "."'],
    ["x.lock", 'end with ".lock"'],
    ["issue-1.lock", 'end with ".lock"'],
  ])("refuses %j, which git refuses as a branch name", (name, rule) => {
    const error = userErrorFrom(() => validateInstanceName(name));
    expect(error.message).toBe(`invalid instance name ${JSON.stringify(name)}: it is also the workspace's git branch, and a branch name may not ${rule}`);
    expect(error.hint).toContain("issue-12");
  });

  it.each(["a.b", "lock", "x.locks", "a-", "a_", "v1.2.3"])("accepts %j, which git accepts as a branch name", (name) => {
    expect(validateInstanceName(name)).toBe(name);
  });

  it("reserves the coordinator's name", () => {
    const error = userErrorFrom(() => validateInstanceName(COORDINATOR_INSTANCE));
    expect(error.message).toBe('instance name "_coordinator" is reserved for the coordinator');
  });
});

describe("quoteForMessage", () => {
  it("escapes quotes and backslashes", () => {
    expect(quoteForMessage('a"b\\c')).toBe('"a\\"b\\\\c"');
  });
});

describe("issueInstanceName", () => {
  it("names an issue's instance", () => {
    expect(issueInstanceName(12)).toBe("issue-12");
  });
  it.each([0, -1, 1.5, Number.NaN])("refuses %s", (n) => {
    expect(() => issueInstanceName(n)).toThrow(UserError);
  });
});

describe("containerNameFor", () => {
  it("prefixes the project id", () => {
    expect(containerNameFor("web-1a2b3c4d", "issue-3")).toBe("cspace-web-1a2b3c4d-issue-3");
  });

  it("differs for two projects with the same name in different directories", () => {
    const a = containerNameFor(projectId("web", "/home/a/web"), "issue-1");
    const b = containerNameFor(projectId("web", "/home/b/web"), "issue-1");
    expect(a).not.toBe(b);
    expect(a).toMatch(DOCKER_NAME);
    expect(b).toMatch(DOCKER_NAME);
  });

  it.each(["my project", "Ünïcødé", "a/b", "", "../.."])("makes a valid Docker name from a project named %j", (name) => {
    expect(containerNameFor(projectId(name, "/p"), "issue-1")).toMatch(DOCKER_NAME);
  });

  it("names the coordinator's container", () => {
    expect(containerNameFor("web-1a2b3c4d", COORDINATOR_INSTANCE)).toBe("cspace-web-1a2b3c4d-_coordinator");
  });

  it("refuses an unvalidated instance name (a bug in the caller)", () => {
    expect(() => containerNameFor("web-1a2b3c4d", "../x")).toThrow(/unvalidated instance name/);
  });
});
