import fc from "fast-check";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { readFlatFrontMatter, type IssueFields } from "../../src/core/issues/flat-front-matter.ts";

/** What the full YAML parser makes of a front matter block, with the schema's defaults; null when it would be refused. */
function fullParse(block: string): IssueFields | null {
  let raw: unknown;
  try {
    raw = parseYaml(block);
  } catch {
    return null;
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return null;
  const fields = raw as Record<string, unknown>;
  if (Object.keys(fields).some((key) => !["title", "state", "labels", "milestone", "parent"].includes(key))) return null;
  const { title, state = "open", labels = [], milestone = null, parent = null } = fields;
  if (typeof title !== "string" || title.trim() === "") return null;
  if (state !== "open" && state !== "closed") return null;
  if (!Array.isArray(labels) || labels.some((label) => typeof label !== "string")) return null;
  if (milestone !== null && typeof milestone !== "string" && typeof milestone !== "number") return null;
  if (parent !== null && !(typeof parent === "number" && Number.isInteger(parent) && parent > 0)) return null;
  return { title: title.trim(), state, labels: labels as string[], milestone: milestone === null ? null : String(milestone), parent };
}

// Characters that mean something to YAML somewhere, and plain ones.
const tricky = fc.constantFrom("a", "b", "Z", " ", " ", "#", ":", "-", '"', "'", "[", "]", ",", "{", "}", "\\", "1", "0", ".", "!", "&", "*", "~", "\t", "%", "@", "`", "?", "|", ">", "é", "+");
// Mostly text a person would write, so that many blocks take the fast path.
const friendly = fc.constantFrom("a", "b", "x", " ", "-", ":", "#", ".", "1", "é", "[", "]");
const text = fc.oneof(
  { arbitrary: fc.string({ unit: friendly, maxLength: 12 }), weight: 3 },
  fc.string({ unit: tricky, maxLength: 12 }),
  fc.constantFrom("open", "closed", "null", "true", "yes", "~", "2", "42", "042", "-3", "0", "1.5", "0x1F", ".inf", "v1", "Login v2", "C#", "a: b", "x #y"),
);
const quoted = fc.oneof(text, text.map((t) => `"${t}"`), text.map((t) => `'${t}'`), text.map((t) => `'${t.replaceAll("'", "''")}'`));
const list = fc.array(quoted, { maxLength: 4 }).map((items) => `[${items.join(", ")}]`);
const key = fc.constantFrom("title", "title", "title", "state", "labels", "labels", "milestone", "milestone", "parent", "Title", "owner", " title");
const separator = fc.constantFrom(": ", ": ", ": ", ":", ":  ", " : ");
const line = fc.tuple(key, separator, fc.oneof(quoted, list, fc.constant(""))).map(([k, s, v]) => `${k}${s}${v}`);
const block = fc.tuple(fc.array(fc.oneof({ arbitrary: line, weight: 8 }, { arbitrary: fc.constantFrom("", "  - a", "# note"), weight: 1 }), { maxLength: 5 }), fc.constantFrom("\n", "\r\n"))
  .map(([lines, newline]) => lines.join(newline));

describe("readFlatFrontMatter", () => {
  it("agrees with the full YAML parser on everything it reads, and reads the common shapes", () => {
    fc.assert(
      fc.property(block, (frontMatter) => {
        const fast = readFlatFrontMatter(frontMatter);
        if (fast !== null) expect(fast).toEqual(fullParse(frontMatter));
      }),
      { numRuns: 5000 },
    );
  });

  it.each([
    "title: Session store\nstate: open\nlabels: [auth, backend]\nmilestone: Login v2",
    'title: "Login page"\nstate: closed\nlabels: ["ui"]',
    "title: Generated issue 5\nstate: open",
    "title: 'It''s done'\nmilestone:",
    "title: Cart total\nparent: 42",
  ])("reads %j without the full parser", (frontMatter) => {
    const fast = readFlatFrontMatter(frontMatter);
    expect(fast).not.toBeNull();
    expect(fast).toEqual(fullParse(frontMatter));
  });
});
