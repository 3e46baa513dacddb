import { parse as parseYaml } from "yaml";
import { validateFrontMatter } from "../issues/front-matter-schema.ts";
import { describe, expect, it } from "vitest";
import { parseIssueFile } from "../issues/issue-file.ts";
import { withIssueState } from "./issue-front-matter.ts";

const full = { parseYaml, validate: validateFrontMatter };

describe("withIssueState", () => {
  it("changes only the state value", () => {
    const text = "---\ntitle: Session store\nstate: open\nlabels: [backend]\n---\n\nstate: open in the body stays.\n";
    const closed = withIssueState(text, "closed");
    expect(closed).toBe(text.replace("state: open\nlabels", "state: closed\nlabels"));
    expect(parseIssueFile("1.md", 1, closed, full).state).toBe("closed");
  });

  it("keeps CRLF line endings, spacing and a trailing comment", () => {
    const text = "---\r\ntitle: A\r\nstate:   open  # set by hand\r\n---\r\nbody\r\n";
    expect(withIssueState(text, "closed")).toBe("---\r\ntitle: A\r\nstate:   closed  # set by hand\r\n---\r\nbody\r\n");
  });

  it("replaces a quoted state", () => {
    const text = '---\ntitle: A\nstate: "open"\n---\n';
    expect(parseIssueFile("1.md", 1, withIssueState(text, "closed"), full).state).toBe("closed");
  });

  it("adds a state line after a one-line title when there is none", () => {
    const text = "---\ntitle: A\nlabels: [x]\n---\nbody\n";
    expect(withIssueState(text, "closed")).toBe("---\ntitle: A\nstate: closed\nlabels: [x]\n---\nbody\n");
  });

  it("adds a state line at the end of the front matter when the title is last or spans lines", () => {
    expect(withIssueState("---\ntitle: A\n---\n", "closed")).toBe("---\ntitle: A\nstate: closed\n---\n");
    const folded = "---\ntitle: >\n  A long\n  title\n---\nbody\n";
    const closed = withIssueState(folded, "closed");
    expect(closed).toBe("---\ntitle: >\n  A long\n  title\nstate: closed\n---\nbody\n");
    expect(parseIssueFile("1.md", 1, closed, full)).toMatchObject({ title: "A long title", state: "closed" });
  });

  it("round-trips, and touches only the top-level state key", () => {
    const text = "---\ntitle: A\nnotes:\n  state: open\nstate: open\n---\n";
    const closed = withIssueState(text, "closed");
    expect(closed).toBe("---\ntitle: A\nnotes:\n  state: open\nstate: closed\n---\n");
    expect(withIssueState(closed, "open")).toBe(text);
  });
});
