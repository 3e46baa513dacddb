import { describe, expect, it } from "vitest";
import { compileTemplate } from "./compile.ts";
import { fence, helpers } from "./helpers.ts";
import { minimalData } from "../../../test/unit/templates/fixtures.ts";

/** Renders a one-off implementer template over the minimal data, with the given fields changed. */
function render(source: string, data: Partial<typeof minimalData.implementer> = {}): string {
  return compileTemplate("implementer", source, "test.hbs").render({ ...minimalData.implementer, ...data });
}

const labels = (list: readonly string[]) => ({ issue: { ...minimalData.implementer.issue, labels: list } });

describe("join", () => {
  it("joins with the separator given, or a comma", () => {
    expect(render('{{join issue.labels " / "}}', labels(["a", "b"]))).toBe("a / b");
    expect(render("{{join issue.labels}}", labels(["a", "b"]))).toBe("a, b");
  });

  it("prints nothing for an empty or absent list", () => {
    expect(render("[{{join issue.labels}}]", labels([]))).toBe("[]");
    expect(helpers.join.fn(null, ", ")).toBe("");
  });
});

describe("eq", () => {
  it("compares strictly, for use in #if", () => {
    expect(render('{{#if (eq baseBranch "main")}}on main{{else}}stacked{{/if}}')).toBe("on main");
    expect(render("{{#if (eq baseBranch featureBranch)}}same{{/if}}", { featureBranch: "feature/x" })).toBe("");
    expect(helpers.eq.fn(1, "1")).toBe(false);
  });
});

describe("bullets", () => {
  it("makes one markdown list item per entry, in backticks", () => {
    expect(render("{{bullets issue.labels}}", labels(["src/a.ts", "src/b.ts"]))).toBe("- `src/a.ts`\n- `src/b.ts`");
    expect(render("{{bullets issue.labels}}", labels([]))).toBe("");
  });
});

describe("fence", () => {
  it("wraps text in a code block with an optional language", () => {
    expect(fence("a\nb")).toBe("```\na\nb\n```");
    expect(fence("x\n", "text")).toBe("```text\nx\n```");
    expect(render('{{fence issue.title "sh"}}', { issue: { ...minimalData.implementer.issue, title: "ls" } })).toBe("```sh\nls\n```");
  });

  it("uses a fence longer than any run of backticks inside, so the text cannot close it", () => {
    expect(fence("before\n```\ninside\n````\nafter")).toBe("`````\nbefore\n```\ninside\n````\nafter\n`````");
  });

  it("prints an empty block for an absent value", () => {
    expect(helpers.fence.fn(null, {})).toBe("```\n\n```");
  });
});
