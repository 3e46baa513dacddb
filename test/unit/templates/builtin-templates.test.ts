import { describe, expect, it } from "vitest";
import { failureKinds, templateKinds, type TemplateKind } from "../../../src/core/templates/data.ts";
import { loadTemplates, type PromptTemplates } from "../../../src/services/templates/templates.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";
import { fullData, minimalData } from "./fixtures.ts";

const tempDir = useTempDirs("templates");

/** The built-in templates, as a project with no overrides and no context.md gets them. */
async function builtins(): Promise<PromptTemplates> {
  return await loadTemplates({ projectDir: await tempDir(), config: { templates: {} } });
}

function render(templates: PromptTemplates, kind: TemplateKind, data: "full" | "minimal"): string {
  switch (kind) {
    case "implementer":
      return templates.render(kind, data === "full" ? fullData.implementer : minimalData.implementer);
    case "review":
      return templates.render(kind, data === "full" ? fullData.review : minimalData.review);
    case "rebase":
      return templates.render(kind, data === "full" ? fullData.rebase : minimalData.rebase);
    case "retry":
      return templates.render(kind, data === "full" ? fullData.retry : minimalData.retry);
    case "nudge":
      return templates.render(kind, data === "full" ? fullData.nudge : minimalData.nudge);
  }
}

/** What every prompt must say, whatever data it is given. */
function expectSound(text: string, branch: string): void {
  expect(text).not.toMatch(/undefined|null|\[object |NaN/);
  expect(text).not.toMatch(/\n\n\n/);
  expect(text).not.toContain("{{");
  expect(text).toContain(`\`${branch}\``);
  expect(text).toContain('cspace blocked "');
  expect(text).toContain('cspace send _coordinator "');
  expect(text).toMatch(/do not push|Do not push/);
}

/** The prompts (a whole task each); the nudge is a short message in a session, tested on its own below. */
const promptKinds = templateKinds.filter((kind) => kind !== "nudge");

describe("the built-in nudge message (a silent agent, coordinator.stallMinutes)", () => {
  it("says how long the agent was silent, its last event, and how to go on or give up", async () => {
    const text = render(await builtins(), "nudge", "full");
    expectSound(text, "issue-12");
    expect(text).toContain("nothing has come from you for 16 minutes while you work on issue #12 (Add login)");
    expect(text).toContain("The last thing you did: tool: npm test -- --watch");
    const minimal = render(await builtins(), "nudge", "minimal");
    expectSound(minimal, "issue-3");
    expect(minimal).not.toContain("The last thing you did");
    expect(minimal.length).toBeLessThan(800);
  });
});

describe.each(promptKinds)("the built-in %s template", (kind) => {
  it("renders with every field set", async () => {
    const text = render(await builtins(), kind, "full");
    expectSound(text, "issue-12");
    expect(text).toContain("Add login");
    expect(text).toContain("`npm run verify`");
    expect(text).toContain("https://github.com/acme/app/issues/12");
    expect(text).toContain("`acme/app`");
    expect(text).toContain("A TypeScript monorepo; run commands from the root.");
    expect(text).toContain("issue-12");
  });

  it("renders sensibly with only the required fields", async () => {
    const text = render(await builtins(), kind, "minimal");
    expectSound(text, "issue-3");
    expect(text).toContain("Fix the typo in the banner");
    expect(text).toContain("this project");
    expect(text).not.toContain("npm run verify");
    expect(text).toMatch(/has not configured a verify command|the project's build and tests|the project's tests/);
    expect(text).toContain("(The issue has no description: its title is the whole task.)");
    expect(text).not.toContain("About this project");
    expect(text).not.toContain("end-to-end");
  });
});

describe("the implementer prompt", () => {
  it("states the issue, its labels, the base it is stacked on and what the dependencies are", async () => {
    const text = render(await builtins(), "implementer", "full");
    expect(text).toMatch(/^# Issue #12: Add login\n/);
    expect(text).toContain("labels: auth, backend");
    expect(text).toContain("Users log in with their email address.");
    // Exactly what is in the checkout: the commit it starts from, and the parent's verified commits.
    expect(text).toContain("`issue-12` starts from `issue-10` at commit `3f2a1c0d9e8b`.");
    expect(text).toContain("`issue-10` is another issue's branch, not merged yet. Its work passed cspace's verify and is in your checkout: these commits on top of `feature/login`");
    expect(text).toContain("  - `3f2a1c0d9e8b` User table: add the email column\n  - `9b8c7d6e5f4a` User table: create it\n");
    expect(text).toContain("`issue-12` already holds work from an earlier run of cspace on this issue, replayed onto `issue-10`:\n  - `77aa88bb99cc` Login: first try");
    expect(text).toContain("Your work will be merged into `feature/login`.");
    expect(text).toContain("- #9 Schema: merged into `feature/login`, so it is in your base");
    expect(text).toContain("- #10 User table: not merged yet, in progress on `issue-10`");
    expect(text).toContain("The end-to-end suite is `npm run e2e`.");
    expect(text).toContain("Make sure `npm run verify` passes");
  });

  it("leaves out what does not apply: stacking, dependencies, labels", async () => {
    const text = render(await builtins(), "implementer", "minimal");
    expect(text).toContain("`issue-3` starts from `main`. Your work will be merged into `main`.");
    expect(text).not.toContain("What this builds on");
    expect(text).not.toContain("abels");
    expect(text).toContain("Make sure the build and tests pass");
  });
});

describe("the retry prompt", () => {
  it("says which attempt this is, what failed and the end of its output", async () => {
    const text = render(await builtins(), "retry", "full");
    expect(text).toContain("attempt 2 of 3");
    expect(text).toContain("The verify command `npm run verify` failed");
    expect(text).toContain("npm run verify exited 1");
    expect(text).toContain("```\nFAIL src/login.test.ts\n  expected 200, got 500\n```");
    expect(text).toContain("same branch, `issue-12`");
  });

  it.each(failureKinds)("explains a %s failure in its own words", async (kind) => {
    const templates = await builtins();
    const text = templates.render("retry", { ...minimalData.retry, failure: { kind } });
    expect(text).not.toContain("The last attempt failed (");
    expectSound(text, "issue-3");
  });

  it("says when this is the last attempt", async () => {
    const templates = await builtins();
    const last = templates.render("retry", { ...fullData.retry, attempt: 3, maxAttempts: 3 });
    expect(last).toContain("this is the last attempt");
    expect(render(templates, "retry", "full")).not.toContain("this is the last attempt");
  });
});

describe("the rebase prompt", () => {
  it("names the target, the conflicting files and the commits to replay", async () => {
    const text = render(await builtins(), "rebase", "full");
    expect(text).toMatch(/^# Rebase `issue-12` onto `feature\/login`/);
    expect(text).toContain("- `src/login.ts`\n- `src/session.ts`");
    expect(text).toContain("git rebase --onto origin/feature/login 4b825dc");
    expect(text).toContain("leave no rebase in progress");
    expect(text).toContain("Run `npm run verify`");
  });

  it("without conflicting paths or an old base, rebases the whole branch", async () => {
    const text = render(await builtins(), "rebase", "minimal");
    expect(text).toContain("git rebase origin/main");
    expect(text).not.toContain("--onto");
    expect(text).not.toContain("files in conflict");
  });
});

describe("the review prompt", () => {
  it("points at the pull request, the diff and the issue", async () => {
    const text = render(await builtins(), "review", "full");
    expect(text).toContain("The pull request: https://github.com/acme/app/pull/40");
    expect(text).toContain("git diff origin/issue-10...HEAD");
    expect(text).toContain("```\n src/login.ts | 40 ++++\n 1 file changed, 40 insertions(+)\n```");
  });

  it("without a pull request still says what to review", async () => {
    const text = render(await builtins(), "review", "minimal");
    expect(text).not.toContain("pull request:");
    expect(text).toContain("git diff origin/main...HEAD");
  });
});
