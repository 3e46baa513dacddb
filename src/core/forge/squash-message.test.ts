import { describe, expect, it } from "vitest";
import { squashCommitText, squashMessage } from "./squash-message.ts";

describe("squashMessage", () => {
  it("names the pull request in the title and the branches and issue in the body", () => {
    expect(squashMessage({ title: "Session store", number: 7, head: "issue-12", base: "main", issue: 12 })).toEqual({
      title: "Session store (#7)",
      message: "Squash-merged issue-12 into main for issue #12 by cspace.",
    });
  });

  it("does not repeat a pull request number the title already ends with", () => {
    expect(squashMessage({ title: "Login (#3) ", number: 3, head: "x", base: "main", issue: null })).toEqual({
      title: "Login (#3)",
      message: "Squash-merged x into main by cspace.",
    });
  });
});

describe("squashCommitText", () => {
  it("joins title and message with a blank line, or is the title alone", () => {
    expect(squashCommitText("A (#1)", "Body.")).toBe("A (#1)\n\nBody.\n");
    expect(squashCommitText("A (#1)", "  ")).toBe("A (#1)\n");
  });
});
