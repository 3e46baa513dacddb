import { describe, expect, it } from "vitest";
import { userErrorFrom } from "../../../test/support/errors.ts";
import { compileTemplate } from "./compile.ts";
import type { TemplateKind } from "./data.ts";

/** The message of the UserError that loading `source` as a `kind` template throws. */
function problem(source: string, kind: TemplateKind = "implementer"): string {
  return userErrorFrom(() => compileTemplate(kind, source, ".cspace/templates/x.md.hbs")).message;
}

function accepts(source: string, kind: TemplateKind = "implementer"): void {
  expect(() => compileTemplate(kind, source, "x.md.hbs")).not.toThrow();
}

describe("unknown variables", () => {
  it("names the file, line, column and variable, suggests the closest and lists the valid ones", () => {
    const message = problem("# Title\n\nYou are on {{branc}}.");
    expect(message).toMatch(/^\.cspace\/templates\/x\.md\.hbs:3:14: unknown variable "branc" \(did you mean "branch"\?\) — valid: /);
    expect(message).toContain("issue.number, issue.title, issue.body, issue.url, issue.labels, branch, baseBranch, featureBranch, dependencies, verifyCommand, e2eCommand, repo, instance, context");
  });

  it("checks nested paths", () => {
    expect(problem("{{issue.titel}}")).toContain('unknown variable "issue.titel" (did you mean "issue.title"?)');
    expect(problem("{{issue.title.length}}")).toContain('"issue.title.length": issue.title is text and has no field "length"');
  });

  it("checks variables in every branch, not only the one that would render", () => {
    expect(problem("{{#if verifyCommand}}{{verifyComand}}{{else}}none{{/if}}")).toContain('(did you mean "verifyCommand"?)');
    expect(problem("{{#if repo}}x{{else if contxt}}{{/if}}")).toContain('unknown variable "contxt" (did you mean "context"?)');
    expect(problem("{{#unless repo}}{{e2eComand}}{{/unless}}")).toContain('(did you mean "e2eCommand"?)');
  });

  it("checks #each blocks against the item's fields", () => {
    const message = problem("{{#each dependencies}}\n- {{titel}}\n{{/each}}");
    expect(message).toContain(':2:5: unknown variable "titel" (did you mean "title"?) — valid inside {{#each dependencies}}: number, title, state, branch');
  });

  it("checks block parameters", () => {
    accepts("{{#each dependencies as |dep index|}}{{index}} {{dep.number}} {{dep.branch}}{{/each}}");
    expect(problem("{{#each dependencies as |dep|}}{{dep.numbr}}{{/each}}")).toContain('unknown variable "dep.numbr" (did you mean "dep.number"?)');
  });

  it("points a top-level name used inside #each to @root", () => {
    expect(problem("{{#each dependencies}}{{baseBranch}}{{/each}}")).toContain('for the top-level "baseBranch", write @root.baseBranch');
    accepts("{{#each dependencies}}{{@root.baseBranch}} {{@index}} {{@first}} {{@last}}{{/each}}");
    expect(problem("{{#each dependencies}}{{@root.baseBrnch}}{{/each}}")).toContain('unknown variable "@root.baseBrnch" (did you mean "@root.baseBranch"?)');
  });

  it("checks the {{else}} of an #each against the outer context", () => {
    accepts("{{#each dependencies}}{{number}}{{else}}{{branch}} has none{{/each}}");
    expect(problem("{{#each dependencies}}{{number}}{{else}}{{number}}{{/each}}")).toContain('unknown variable "number"');
  });

  it("checks #with blocks against the object's fields", () => {
    accepts("{{#with issue}}{{title}} {{this.number}}{{/with}}");
    expect(problem("{{#with issue}}{{titl}}{{/with}}")).toContain('(did you mean "title"?)');
  });

  it("treats a list of text items as text inside #each", () => {
    accepts("{{#each issue.labels}}{{this}}{{/each}}");
    expect(problem("{{#each issue.labels}}{{this.name}}{{/each}}")).toContain('this is text and has no field "name"');
  });

  it("knows each kind's own variables", () => {
    accepts("{{attempt}}/{{maxAttempts}} {{failure.kind}} {{failure.output}}", "retry");
    accepts("{{onto}} {{from}} {{#each paths}}{{this}}{{/each}}", "rebase");
    accepts("{{pullRequestUrl}} {{diffSummary}}", "review");
    expect(problem("{{attempt}}")).toContain('unknown variable "attempt"');
    expect(problem("{{failure.outptu}}", "retry")).toContain('(did you mean "failure.output"?)');
  });

  it("refuses @data variables where they do not exist", () => {
    expect(problem("{{@index}}")).toContain('unknown variable "@index" (only inside {{#each}})');
    expect(problem("{{#each dependencies}}{{@key}}{{/each}}")).toContain("valid here: @root.<name>, @index, @first, @last");
  });

  it("refuses ../, which handlebars resolves by context changes the validator cannot see", () => {
    expect(problem("{{#each dependencies}}{{../branch}}{{/each}}")).toContain("../ is not supported; use @root.<name>");
  });

  it("reports every problem, each on its own line", () => {
    const lines = problem("{{branc}}\n{{issue.titel}}\n{{repo}}").split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain("x.md.hbs:1:3:");
    expect(lines[1]).toContain("x.md.hbs:2:3:");
  });

  it("refuses what the data has no field for, including prototype properties", () => {
    expect(problem("{{issue.constructor}}")).toContain('unknown variable "issue.constructor"');
    expect(problem("{{__proto__}}")).toContain('unknown variable "__proto__"');
  });
});

describe("printing", () => {
  it("refuses to print an object or a list, naming what to write instead", () => {
    expect(problem("{{issue}}")).toContain('"issue" is an object: print one of its fields, issue.number, issue.title');
    expect(problem("{{issue.labels}}")).toContain('"issue.labels" is a list: print it with {{#each issue.labels}}…{{/each}} or {{join issue.labels ", "}}');
  });
});

describe("helpers", () => {
  it("refuses unknown helpers, and lookup and log", () => {
    expect(problem("{{upper issue.title}}")).toContain('unknown helper "upper" — helpers are join, eq, bullets, fence');
    expect(problem("{{jion issue.labels}}")).toContain('unknown helper "jion" (did you mean "join"?)');
    expect(problem('{{lookup issue "title"}}')).toContain('unknown helper "lookup"');
    expect(problem("{{log repo}}")).toContain('unknown helper "log"');
  });

  it("checks arguments: their number and whether a list is given where one is needed", () => {
    expect(problem("{{join}}")).toContain("join takes 1 or 2 arguments: {{join issue.labels \", \"}}");
    expect(problem("{{join issue.title}}")).toContain('"issue.title" is text, expected a list here');
    expect(problem("{{fence issue.labels}}")).toContain('"issue.labels" is a list, expected text here');
    expect(problem('{{#if (eq failure.kid "verify")}}x{{/if}}', "retry")).toContain('(did you mean "failure.kind"?)');
    expect(problem('{{join issue.labels sep=", "}}')).toContain("join takes 1 or 2 arguments");
  });

  it("refuses block forms it does not know, and inline forms of block helpers", () => {
    expect(problem("{{#issue}}{{title}}{{/issue}}")).toContain('unknown block helper "issue" — blocks are #if, #unless, #each, #with');
    expect(problem("{{#join issue.labels}}x{{/join}}")).toContain("join is not a block helper");
    expect(problem("{{if repo}}")).toContain("if is a block helper: write {{#if …}}…{{/if}}");
    expect(problem("{{#each issue}}x{{/each}}")).toContain('"issue" is an object, expected a list here');
    expect(problem("{{#with dependencies}}x{{/with}}")).toContain('"dependencies" is a list, expected an object here');
    expect(problem("{{#if}}x{{/if}}")).toContain("{{#if}} takes exactly one argument");
  });

  it("refuses partials and decorators", () => {
    expect(problem("{{> footer}}")).toContain("partials ({{> name}}) are not supported");
  });
});

describe("parse errors", () => {
  it("name the file and the line", () => {
    const message = problem("line one\nline two {{issue.title}\nline three");
    expect(message).toMatch(/^\.cspace\/templates\/x\.md\.hbs:2: the template does not parse: /);
    expect(message).not.toContain("Parse error on line");
  });

  it("name the line of a block closed by the wrong name", () => {
    expect(problem("a\n{{#if repo}}\nb\n{{/each}}")).toMatch(/^\.cspace\/templates\/x\.md\.hbs:2: the template does not parse: if doesn't match each/);
  });
});
