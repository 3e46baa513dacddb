import { describe, expect, it } from "vitest";
import { UserError } from "../errors.ts";
import { assertBranchName, branchNameProblem, featureBranchFor, milestoneSlug } from "./feature-branch.ts";

describe("featureBranchFor", () => {
  const all = { flag: "from-flag", configured: "from-config", milestone: "Login v2", defaultBranch: "main" };

  it.each([
    ["the flag first", all, "from-flag"],
    ["then the config", { ...all, flag: undefined }, "from-config"],
    ["then the milestone", { ...all, flag: null, configured: undefined }, "feature/login-v2"],
    ["then the default branch", { defaultBranch: "trunk" }, "trunk"],
  ])("takes %s", (_, sources, expected) => {
    expect(featureBranchFor(sources)).toBe(expected);
  });

  it("names the source of an invalid branch", () => {
    expect(() => featureBranchFor({ ...all, flag: "my branch" })).toThrow(
      '--feature-branch "my branch" is not a valid git branch name: it cannot contain whitespace',
    );
    expect(() => featureBranchFor({ ...all, flag: undefined, configured: "a..b" })).toThrow(
      "coordinator.featureBranch \"a..b\" is not a valid git branch name: it cannot contain '..'",
    );
  });

  it("refuses a milestone with nothing to name a branch after", () => {
    expect(() => featureBranchFor({ milestone: "!!!", defaultBranch: "main" })).toThrow(UserError);
    expect(() => featureBranchFor({ milestone: "!!!", defaultBranch: "main" })).toThrow(/milestone "!!!" has no letters or digits/);
  });
});

describe("milestoneSlug", () => {
  it.each([
    ["Login & SSO v2", "login-sso-v2"],
    ["  --Q3 / Billing--  ", "q3-billing"],
    ["Café Déjà Vu", "cafe-deja-vu"],
    ["v1.2.0", "v1-2-0"],
    ["***", ""],
  ])("%j → %j", (milestone, slug) => {
    expect(milestoneSlug(milestone)).toBe(slug);
  });
});

describe("branchNameProblem", () => {
  it.each(["main", "feature/login-v2", "release/1.2", "user_name/fix.x", "a/b/c", "issue-12"])("accepts %j", (name) => {
    expect(branchNameProblem(name)).toBeNull();
  });

  it.each([
    ["", "it is empty"],
    ["-x", "it cannot start with '-'"],
    ["@", "'@' is reserved"],
    ["HEAD", "'HEAD' is reserved"],
    ["a b", "it cannot contain whitespace"],
    ["a\u0007b", "it cannot contain control characters"],
    ["a~1", "it cannot contain '~'"],
    ["a^", "it cannot contain '^'"],
    ["a:b", "it cannot contain ':'"],
    ["a?", "it cannot contain '?'"],
    ["a*", "it cannot contain '*'"],
    ["a[b", "it cannot contain '['"],
    ["a\\b", "it cannot contain '\\'"],
    ["a..b", "it cannot contain '..'"],
    ["a@{1}", "it cannot contain '@{'"],
    ["/a", "it cannot start or end with '/'"],
    ["a/", "it cannot start or end with '/'"],
    ["a//b", "it cannot contain '//'"],
    ["a.", "it cannot end with '.'"],
    ["a/.b", "no '/'-separated part can start with '.'"],
    [".a", "no '/'-separated part can start with '.'"],
    ["a.lock", "no '/'-separated part can end with '.lock'"],
    ["a.lock/b", "no '/'-separated part can end with '.lock'"],
  ])("rejects %j: %s", (name, problem) => {
    expect(branchNameProblem(name)).toBe(problem);
  });
});

describe("assertBranchName", () => {
  it("returns a valid name and throws a UserError with a hint otherwise", () => {
    expect(assertBranchName("feature/x", "--feature-branch")).toBe("feature/x");
    let caught: unknown;
    try {
      assertBranchName("x.lock", "--feature-branch");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UserError);
    expect(caught).toMatchObject({ hint: expect.stringMatching(/feature\/login-v2/) as unknown });
  });
});
