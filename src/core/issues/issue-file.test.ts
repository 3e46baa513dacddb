import { describe, expect, it } from "vitest";
import { UserError } from "../errors.ts";
import { issueNumberFromFileName, parseIssueFile } from "./issue-file.ts";

describe("issue file names", () => {
  it.each([
    ["12.md", 12],
    ["1.md", 1],
    ["012.md", null],
    ["12-login.md", null],
    ["README.md", null],
    ["12.md.bak", null],
  ])("%s → %s", (name, expected) => {
    expect(issueNumberFromFileName(name)).toBe(expected);
  });
});

describe("parseIssueFile", () => {
  it("reads front matter and keeps the body as written", () => {
    const issue = parseIssueFile("12.md", 12, "---\ntitle: Session store\nlabels: [auth, backend]\nmilestone: Login v2\n---\nblocked-by: #10\n\nDetails.\n");
    expect(issue).toEqual({
      number: 12,
      title: "Session store",
      state: "open",
      labels: ["auth", "backend"],
      milestone: "Login v2",
      body: "blocked-by: #10\n\nDetails.\n",
    });
  });

  it("accepts a closed issue and a numeric milestone", () => {
    const issue = parseIssueFile("3.md", 3, "---\ntitle: Done\nstate: closed\nmilestone: 2\n---\n");
    expect(issue.state).toBe("closed");
    expect(issue.milestone).toBe("2");
  });

  it.each([
    ["no front matter", "just text", /no front matter/],
    ["missing title", "---\nstate: open\n---\n", /title/],
    ["bad state", "---\ntitle: x\nstate: done\n---\n", /state: .*"open".*"closed"|state: Invalid option/],
    ["unknown key", "---\ntitle: x\nowner: me\n---\n", /unknown key\(s\) "owner"/],
    ["broken YAML", "---\ntitle: [unclosed\n---\n", /not valid YAML/],
  ])("rejects %s with a message naming the file", (_case, text, message) => {
    const attempt = (): unknown => parseIssueFile(".cspace/issues/7.md", 7, text);
    expect(attempt).toThrow(UserError);
    expect(attempt).toThrow(/^\.cspace\/issues\/7\.md: /);
    expect(attempt).toThrow(message);
  });
});
