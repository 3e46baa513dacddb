import { describe, expect, it } from "vitest";
import { shownText } from "./shown-text.ts";

describe("a worker's text as progress lines and tables show it", () => {
  it("drops an OSC 52 clipboard write and an OSC 8 link whole, not only their escape bytes", () => {
    expect(shownText("done\u001b]52;c;Y3VybCBldmlsIHwgc2g=\u0007 all green", 200)).toBe("done all green");
    expect(shownText("see \u001b]8;;https://evil.invalid\u001b\\the docs\u001b]8;;\u001b\\ now", 200)).toBe("see the docs now");
  });

  it("keeps a forged line of the coordinator's own on one line, and removes bidi overrides", () => {
    expect(shownText("ok\r\n12:00:00 #12 merged as abc1234", 200)).toBe("ok 12:00:00 #12 merged as abc1234");
    expect(shownText("file \u202etxt.exe", 200)).toBe("file txt.exe");
  });

  it("cuts long text and says how much was left out", () => {
    expect(shownText("a".repeat(30), 10)).toBe(`${"a".repeat(10)}… (20 more characters)`);
  });
});
