import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BUILTIN_TEMPLATES_DIR, readProjectContext, readTemplateSource } from "../../../src/adapters/templates/template-files.ts";
import { UserError } from "../../../src/core/errors.ts";
import { templateKinds } from "../../../src/core/templates/data.ts";
import { loadTemplate, loadTemplates, renderTemplate, type TemplateProject } from "../../../src/services/templates/templates.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";
import { minimalData } from "./fixtures.ts";

const tempDir = useTempDirs("template-overrides");

async function write(dir: string, file: string, text: string): Promise<void> {
  await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
  await writeFile(path.join(dir, file), text);
}

function project(projectDir: string, templates: TemplateProject["config"]["templates"] = {}): TemplateProject {
  return { projectDir, config: { templates } };
}

async function rejection(promise: Promise<unknown>): Promise<UserError> {
  const error: unknown = await promise.then(
    () => new Error("expected a rejection"),
    (reason: unknown) => reason,
  );
  if (error instanceof UserError) return error;
  throw error;
}

describe("where a template comes from", () => {
  it("takes the config's path over .cspace/templates/ over the built-in", async () => {
    const dir = await tempDir();
    const data = minimalData.implementer;
    expect(await renderTemplate("implementer", data, project(dir))).toContain("# Issue #3: Fix the typo in the banner");

    await write(dir, ".cspace/templates/implementer.md.hbs", "project: {{branch}}");
    expect(await renderTemplate("implementer", data, project(dir))).toBe("project: issue-3");

    await write(dir, "prompts/mine.hbs", "config: {{branch}}");
    expect(await renderTemplate("implementer", data, project(dir, { implementer: "prompts/mine.hbs" }))).toBe("config: issue-3");
  });

  it("says which one it used", async () => {
    const dir = await tempDir();
    await write(dir, ".cspace/templates/review.md.hbs", "{{branch}}");
    await write(dir, "retry.hbs", "{{attempt}}");
    const { templates } = await loadTemplates(project(dir, { retry: "retry.hbs" }));
    expect(templates.implementer).toMatchObject({ origin: "builtin", path: path.join(BUILTIN_TEMPLATES_DIR, "implementer.md.hbs") });
    expect(templates.review).toMatchObject({ origin: "project", file: path.join(".cspace", "templates", "review.md.hbs") });
    expect(templates.retry).toMatchObject({ origin: "config", file: "retry.hbs", path: path.join(dir, "retry.hbs") });
  });

  it("refuses a configured path that is not a file, rather than falling back", async () => {
    const dir = await tempDir();
    await write(dir, ".cspace/templates/rebase.md.hbs", "{{onto}}");
    const error = await rejection(loadTemplate("rebase", project(dir, { rebase: "prompts/rebse.hbs" })));
    expect(error.message).toBe(`templates.rebase: prompts/rebse.hbs is not a file (looked at ${path.join(dir, "prompts/rebse.hbs")})`);
    expect(error.hint).toContain("remove templates.rebase");
  });

  it("finds the built-ins relative to its own module, and every one is valid", async () => {
    for (const kind of templateKinds) {
      const source = await readTemplateSource(await tempDir(), kind);
      expect(source.origin).toBe("builtin");
      expect(await readFile(source.file, "utf8")).toBe(source.text);
    }
    await expect(loadTemplates(project(await tempDir()))).resolves.toBeDefined();
  });
});

describe("a bad override", () => {
  it("is a user error naming its file (relative to the project), line, variable and the fix", async () => {
    const dir = await tempDir();
    await write(dir, ".cspace/templates/implementer.md.hbs", "# {{issue.title}}\n\nWork on {{issue.titel}}.\n");
    const error = await rejection(loadTemplate("implementer", project(dir)));
    expect(error.message).toMatch(/^\.cspace\/templates\/implementer\.md\.hbs:3:11: unknown variable "issue\.titel" \(did you mean "issue\.title"\?\) — valid: issue\.number, /);
    expect(error.hint).toContain("fix the implementer template");
  });

  it("that does not parse is a user error naming its file and line", async () => {
    const dir = await tempDir();
    await write(dir, "p/retry.hbs", "ok\n{{#if failure.output}}\n{{fence failure.output}}\n");
    const error = await rejection(loadTemplate("retry", project(dir, { retry: "p/retry.hbs" })));
    expect(error.message).toMatch(/^p\/retry\.hbs:\d: the template does not parse: /);
  });

  it("is found when the run starts, with every other bad one", async () => {
    const dir = await tempDir();
    await write(dir, ".cspace/templates/review.md.hbs", "{{attempt}}");
    await write(dir, ".cspace/templates/rebase.md.hbs", "{{ont}}");
    const error = await rejection(loadTemplates(project(dir)));
    const lines = error.message.split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('review.md.hbs:1:3: unknown variable "attempt"');
    expect(lines[1]).toContain('rebase.md.hbs:1:3: unknown variable "ont" (did you mean "onto"?)');
  });
});

describe(".cspace/context.md", () => {
  it("is given to templates when present", async () => {
    const dir = await tempDir();
    await write(dir, ".cspace/context.md", "Use pnpm, not npm.\n\n");
    const text = await renderTemplate("implementer", minimalData.implementer, project(dir));
    expect(text).toContain("## About this project\n\nUse pnpm, not npm.\n\n## Scope");
    const templates = await loadTemplates(project(dir));
    expect(templates.context).toBe("Use pnpm, not npm.");
    expect(templates.render("rebase", minimalData.rebase)).toContain("Use pnpm, not npm.");
  });

  it("is left out when absent or blank, or when the data sets context itself", async () => {
    const dir = await tempDir();
    expect(await readProjectContext(dir)).toBeNull();
    expect(await renderTemplate("implementer", minimalData.implementer, project(dir))).not.toContain("About this project");
    await write(dir, ".cspace/context.md", "  \n\n");
    expect(await readProjectContext(dir)).toBeNull();
    await write(dir, ".cspace/context.md", "From the file.");
    expect(await renderTemplate("implementer", { ...minimalData.implementer, context: null }, project(dir))).not.toContain("From the file.");
    expect(await renderTemplate("implementer", { ...minimalData.implementer, context: "Given." }, project(dir))).toContain("Given.");
  });

  it("is data, not template: handlebars in it is printed as written", async () => {
    const dir = await tempDir();
    await write(dir, ".cspace/context.md", "Literal {{branch}} here.");
    expect(await renderTemplate("implementer", minimalData.implementer, project(dir))).toContain("Literal {{branch}} here.");
  });
});
