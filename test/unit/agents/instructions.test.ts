import { describe, expect, it } from "vitest";
import { instructionsIn, parseInstruction } from "../../../src/worker/agents/instructions.ts";

describe("the scripted agent's instruction lines", () => {
  it("finds them in order among other text, indented, quoted or listed", () => {
    const text = [
      "Title",
      "cspace-script: commit docs/a.md two words",
      "  cspace-script: sleep 1.5",
      "> cspace-script: wait-message",
      "- cspace-script: blocked need #10 merged",
      "cspace-script: say needs the schema from #10",
      "* cspace-script: rebase feature/login",
      "not cspace-script: crash (not at the start of the line)",
      "cspace-script: fail 0",
      "cspace-script: crash",
    ].join("\r\n");
    expect(instructionsIn(text).map((line) => (line.ok ? line.instruction : line.error))).toEqual([
      { verb: "commit", path: "docs/a.md", text: "two words" },
      { verb: "sleep", seconds: 1.5 },
      { verb: "wait-message" },
      { verb: "blocked", reason: "need #10 merged" },
      { verb: "say", text: "needs the schema from #10" },
      { verb: "rebase", branch: "feature/login" },
      { verb: "fail", code: 0 },
      { verb: "crash" },
    ]);
  });

  it.each([
    ["commit", /commit needs a path/],
    ["sleep soon", /sleep needs a number/],
    ["sleep -1", /sleep needs a number/],
    ["fail", /exit code from 0 to 255/],
    ["fail 2.5", /exit code from 0 to 255/],
    ["crash now", /crash takes no argument/],
    ["blocked", /blocked needs a reason/],
    ["say", /say needs a text/],
    ["say   ", /say needs a text/],
    ["say -", /other than "-"/],
    ["rebase a b", /rebase needs one branch name/],
    ["push main", /unknown instruction "push"/],
  ])("refuses %j", (source, message) => {
    const parsed = parseInstruction(source);
    expect(typeof parsed).toBe("string");
    expect(parsed).toMatch(message);
  });

  it("allows a commit with no text", () => {
    expect(parseInstruction("commit empty.txt")).toEqual({ verb: "commit", path: "empty.txt", text: "" });
  });
});
