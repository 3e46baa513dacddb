import { describe, expect, it } from "vitest";
import { parseDependencyMentions, parseDependencyReferences } from "./references.ts";

const local = (...numbers: number[]) => numbers.map((number) => ({ repo: null, number }));

describe("parseDependencyReferences", () => {
  it.each([
    ["blocked-by: #12", local(12)],
    ["Blocked by #12, #13", local(12, 13)],
    ["Blocked by #12, #13 and #14", local(12, 13, 14)],
    ["depends on #12", local(12)],
    ["Depends-On: #123", local(123)],
    ["requires #4", local(4)],
    ["REQUIRES: #4", local(4)],
    ["blocked by: #7", local(7)],
    ["Depends on: #12", local(12)],
    ["blocked-by: owner/repo#12", [{ repo: "owner/repo", number: 12 }]],
    ["blocked-by: my-org/my_repo.js#3", [{ repo: "my-org/my_repo.js", number: 3 }]],
    ["depends on https://github.com/owner/repo/issues/12", [{ repo: "owner/repo", number: 12 }]],
    ["depends on https://github.com/owner/repo/pull/34", [{ repo: "owner/repo", number: 34 }]],
    ["requires https://ghe.example.com/team/app/issues/5", [{ repo: "team/app", number: 5 }]],
    ["requires https://github.com/o/r/issues/5#issuecomment-99", [{ repo: "o/r", number: 5 }]],
    ["requires [the login work](https://github.com/o/r/pull/8/files)", [{ repo: "o/r", number: 8 }]],
    ["blocked-by: #1, owner/repo#2, https://github.com/a/b/issues/3", [
      { repo: null, number: 1 },
      { repo: "owner/repo", number: 2 },
      { repo: "a/b", number: 3 },
    ]],
  ])("reads %j", (body, expected) => {
    expect(parseDependencyReferences(body)).toEqual(expected);
  });

  it.each([
    ["- blocked-by: #12", "list item"],
    ["* Blocked by #12", "star list item"],
    ["+ depends on #12", "plus list item"],
    ["1. requires #12", "numbered item"],
    ["- [ ] depends on #12", "task list item"],
    ["> blocked by #12", "blockquote"],
    ["**Blocked by:** #12", "bold keyword"],
    ["**Blocked by**: #12", "bold keyword, colon outside"],
    ["_depends on_ #12", "italic keyword"],
    ["    blocked-by: #12", "indented"],
    ["> - **Depends on** #12", "quoted bold list item"],
  ])("accepts markup before the keyword: %j (%s)", (body) => {
    expect(parseDependencyReferences(body)).toEqual(local(12));
  });

  it.each([
    ["See #12 for context.", "no keyword"],
    ["this fixes what requires #4", "keyword mid-sentence"],
    ["Note: blocked by #4", "keyword not at the start"],
    ["requirements: #4", "a longer word"],
    ["blocked-by-design #4", "a longer keyword"],
    ["blocked-by: issue12 &#12; abc#12 #0", "not references"],
    ["blocked-by: https://example.com/docs/a/b#12", "anchor inside a link"],
    ["<!-- blocked-by: #12 -->", "HTML comment"],
    ["<!--\nblocked-by: #12\n-->", "multi-line HTML comment"],
  ])("ignores %j (%s)", (body) => {
    expect(parseDependencyReferences(body)).toEqual([]);
  });

  it("reads every dependency line, deduplicated in first-seen order", () => {
    const body = ["Intro.", "blocked-by: #3, #1", "Depends on #1 and #2", "requires OWNER/Repo#9", "requires owner/repo#9"].join("\n");
    expect(parseDependencyReferences(body)).toEqual([...local(3, 1, 2), { repo: "OWNER/Repo", number: 9 }]);
  });

  it("handles CRLF line endings", () => {
    expect(parseDependencyReferences("Intro\r\nblocked-by: #5\r\nrequires #6")).toEqual(local(5, 6));
  });

  describe("fenced code blocks", () => {
    it.each([
      ["```\nblocked-by: #1\n```\nblocked-by: #2", "backticks"],
      ["~~~md\nblocked-by: #1\n~~~\nblocked-by: #2", "tildes with an info string"],
      ["````\n```\nblocked-by: #1\n````\nblocked-by: #2", "a shorter fence inside a longer one"],
      ["```\nblocked-by: #1\n~~~\nblocked-by: #1\n```\nblocked-by: #2", "the other fence character does not close"],
      ["- item\n  ```\n  blocked-by: #1\n  ```\nblocked-by: #2", "an indented fence in a list"],
      ["> ```\n> blocked-by: #1\n> ```\nblocked-by: #2", "a fence in a blockquote"],
    ])("skips references inside them (%s)", (body) => {
      expect(parseDependencyReferences(body)).toEqual(local(2));
    });

    it("treats an unclosed fence as running to the end of the body", () => {
      expect(parseDependencyReferences("blocked-by: #1\n```\nblocked-by: #2")).toEqual(local(1));
    });

    it("does not close a fence with a line that has text after the marker", () => {
      expect(parseDependencyReferences("```\n``` not a close\nblocked-by: #1\n```\nblocked-by: #2")).toEqual(local(2));
    });
  });

  it("reads long runs of markup without finding a dependency", () => {
    expect(parseDependencyReferences(`${"* ".repeat(5000)}x #1\n${"**".repeat(5000)}`)).toEqual([]);
  });
});

describe("parseDependencyMentions", () => {
  it("keeps the trimmed line each reference came from", () => {
    expect(parseDependencyMentions("  - Blocked by #12, #13  \nrequires #4")).toEqual([
      { repo: null, number: 12, line: "- Blocked by #12, #13" },
      { repo: null, number: 13, line: "- Blocked by #12, #13" },
      { repo: null, number: 4, line: "requires #4" },
    ]);
  });
});
