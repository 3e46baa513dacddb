import { parse as parseYaml } from "yaml";
import { validateFrontMatter } from "./front-matter-schema.ts";
import { describe, expect, it } from "vitest";
import { UserError } from "../errors.ts";
import { issueNumberFromFileName, parseFlatIssueFile, parseIssueFile } from "./issue-file.ts";

const full = { parseYaml, validate: validateFrontMatter };

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
    const issue = parseIssueFile("12.md", 12, "---\ntitle: Session store\nlabels: [auth, backend]\nmilestone: Login v2\n---\nblocked-by: #10\n\nDetails.\n", full);
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
    const issue = parseIssueFile("3.md", 3, "---\ntitle: Done\nstate: closed\nmilestone: 2\n---\n", full);
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
    const attempt = (): unknown => parseIssueFile(".cspace/issues/7.md", 7, text, full);
    expect(attempt).toThrow(UserError);
    expect(attempt).toThrow(/^\.cspace\/issues\/7\.md: /);
    expect(attempt).toThrow(message);
  });
});

describe("parseFlatIssueFile: the front matter issues almost always have, without a YAML parser", () => {
  it("reads plain, double- and single-quoted text, flow lists and CRLF lines", () => {
    const text = '---\r\ntitle: "Login: the page"\r\nstate: closed\r\nlabels: [ui, "needs review", \'it\'\'s\']\r\nmilestone: Login v2\r\n---\r\nBody.\r\n';
    expect(parseFlatIssueFile("9.md", 9, text)).toEqual({
      number: 9,
      title: "Login: the page",
      state: "closed",
      labels: ["ui", "needs review", "it's"],
      milestone: "Login v2",
      body: "Body.\r\n",
    });
  });

  it.each([
    ["a comment", "title: Fix #12"],
    ["a block list", "title: x\nlabels:\n  - a"],
    ["a number", "title: x\nmilestone: 2"],
    ["an escape", 'title: "tab\\there"'],
    ["a boolean", "title: yes"],
    ["an unknown key", "title: x\nowner: me"],
    ["a repeated key", "title: x\ntitle: y"],
    ["an invalid state", "title: x\nstate: done"],
  ])("leaves %s to the full parser", (_case, frontMatter) => {
    expect(parseFlatIssueFile("1.md", 1, `---\n${frontMatter}\n---\n`)).toBeNull();
  });
});
