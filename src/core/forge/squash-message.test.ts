import { describe, expect, it } from "vitest";
import { squashCommitText, squashMessage } from "./squash-message.ts";

describe("squashMessage", () => {
  it("on the local forge names the issue in the title, never a pull request number that reads as an issue's", () => {
    // The demo's `Cart total (#2)` was pull request 2 of issue 1.
    expect(squashMessage({ title: "Cart total", number: 2, head: "issue-1", base: "main", issue: 1, numbering: "local" })).toEqual({
      title: "Cart total (closes #1)",
      message: "Squash-merged pull request 2 (issue-1 into main) by cspace.",
    });
  });

  it("on GitHub keeps GitHub's convention: the pull request's number in the title, the issue closed by the body", () => {
    expect(squashMessage({ title: "Session store", number: 7, head: "issue-12", base: "main", issue: 12, numbering: "github" })).toEqual({
      title: "Session store (#7)",
      message: "Closes #12",
    });
  });

  it("does not repeat a suffix the title already ends with", () => {
    expect(squashMessage({ title: "Login (#3) ", number: 3, head: "x", base: "main", issue: null, numbering: "github" }).title).toBe("Login (#3)");
    expect(squashMessage({ title: "Login (closes #4)", number: 3, head: "x", base: "main", issue: 4, numbering: "local" }).title).toBe("Login (closes #4)");
  });
});

describe("squashCommitText", () => {
  it("joins title and message with a blank line, or is the title alone", () => {
    expect(squashCommitText("A (#1)", "Body.")).toBe("A (#1)\n\nBody.\n");
    expect(squashCommitText("A (#1)", "  ")).toBe("A (#1)\n");
  });
});
