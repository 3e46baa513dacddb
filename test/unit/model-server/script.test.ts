import { describe, expect, it } from "vitest";
import { DEFAULT_ANSWER, DEFAULT_USAGE, ScriptError, parseScript, stepAt } from "../../support/model-server/script.ts";

describe("model server script", () => {
  it("reads shell and say lines as steps, in order, and ignores every other line", () => {
    const steps = parseScript(["Implement the issue.", "#model shell git commit -qm \"Add x\"", "Then report.", "  #model say All done.\\nBye"].join("\n"));
    expect(steps.map((step) => step.action)).toEqual([
      { kind: "shell", command: 'git commit -qm "Add x"' },
      { kind: "say", text: "All done.\nBye" },
    ]);
  });

  it("gives wait, fail and limit to the step that follows them, and usage to every later step", () => {
    const steps = parseScript(["#model wait 1.5", "#model fail 529 3 times", "#model shell true", "#model usage 10 2", "#model limit 90s", "#model fail 500 always", "#model say ok"].join("\n"));
    expect(steps[0]).toEqual({ action: { kind: "shell", command: "true" }, waitSeconds: 1.5, faults: [{ kind: "status", status: 529, times: 3 }], usage: DEFAULT_USAGE });
    expect(steps[1]).toEqual({
      action: { kind: "say", text: "ok" },
      waitSeconds: 0,
      faults: [
        { kind: "limit", reset: { after: 90 } },
        { kind: "status", status: 500, times: "always" },
      ],
      usage: { input: 10, output: 2 },
    });
  });

  it("reads a limit's reset as a duration, epoch seconds or an ISO time, and fail without a count as once", () => {
    const faults = parseScript(["#model limit 5m", "#model limit at 1796571364", "#model limit at 2026-12-06T15:00:00Z", "#model fail 500", "#model say x"].join("\n"))[0]?.faults;
    expect(faults).toEqual([
      { kind: "limit", reset: { after: 300 } },
      { kind: "limit", reset: { at: 1796571364 } },
      { kind: "limit", reset: { at: Date.parse("2026-12-06T15:00:00Z") / 1000 } },
      { kind: "status", status: 500, times: 1 },
    ]);
  });

  it("answers the closing text past the last step, carrying modifiers written after it", () => {
    const steps = parseScript("#model shell true\n#model fail 503 once");
    expect(steps).toHaveLength(2);
    expect(steps[1]?.action).toEqual({ kind: "say", text: DEFAULT_ANSWER });
    expect(stepAt(steps, 7).action).toEqual({ kind: "say", text: DEFAULT_ANSWER });
    expect(stepAt([], 0).action).toEqual({ kind: "say", text: DEFAULT_ANSWER });
  });

  it("refuses a line it cannot read, naming the line and where the grammar is", () => {
    expect(() => parseScript("#model dance now")).toThrow(ScriptError);
    expect(() => parseScript("#model fail often")).toThrow(/"#model fail often".*README\.md/);
    expect(() => parseScript("#model limit soon")).toThrow(/limit at <epoch seconds\|ISO time>/);
  });
});
