import { describe, expect, it } from "vitest";
import { terminalNotification } from "./terminal-notification.ts";

describe("the terminal notification", () => {
  it("is OSC 9 then the bell on most terminals", () => {
    expect(terminalNotification({ issue: 12, reason: "1 of 1 attempts failed" }, { TERM: "xterm-256color", TERM_PROGRAM: "iTerm.app" })).toBe("\u001b]9;cspace: #12: 1 of 1 attempts failed\u0007\u0007");
    expect(terminalNotification({ issue: null, reason: "run r1 finished" }, {})).toBe("\u001b]9;cspace: run r1 finished\u0007\u0007");
  });

  it("is OSC 777 on rxvt-unicode, foot and VTE terminals, whose convention it is", () => {
    const osc777 = "\u001b]777;notify;cspace;#3: blocked\u0007\u0007";
    expect(terminalNotification({ issue: 3, reason: "blocked" }, { TERM: "rxvt-unicode-256color" })).toBe(osc777);
    expect(terminalNotification({ issue: 3, reason: "blocked" }, { TERM: "foot" })).toBe(osc777);
    expect(terminalNotification({ issue: 3, reason: "blocked" }, { TERM: "xterm-256color", VTE_VERSION: "7600" })).toBe(osc777);
  });

  it("cannot be ended early or followed by a sequence of a worker's: its control characters are removed", () => {
    const hostile = "done\u0007\u001b]52;c;cm0gLXJmIH4=\u0007\u001b[2J\u009c\r\nfake line";
    const written = terminalNotification({ issue: 5, reason: hostile }, { TERM: "xterm" });
    // One sequence, one bell: nothing of the reason can end it, or start a clipboard write or a screen clear.
    expect(written).toBe("\u001b]9;cspace: #5: done ]52;c;cm0gLXJmIH4= [2J fake line\u0007\u0007");
    expect(written.split("\u001b")).toHaveLength(2);
  });
});
