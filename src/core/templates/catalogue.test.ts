import { describe, expect, it } from "vitest";
import { catalogueFor, completeData, variableNames } from "./catalogue.ts";
import { compileTemplate } from "./compile.ts";
import { templateKinds } from "./data.ts";
import { fullData, minimalData } from "../../../test/unit/templates/fixtures.ts";

describe("the catalogue", () => {
  it("gives every kind the common variables and its own", () => {
    const common = variableNames(catalogueFor("implementer"));
    for (const kind of templateKinds) expect(variableNames(catalogueFor(kind))).toEqual(expect.arrayContaining(common));
    expect(variableNames(catalogueFor("retry"))).toEqual(
      expect.arrayContaining(["attempt", "maxAttempts", "failure.kind", "failure.summary", "failure.command", "failure.output"]),
    );
    expect(variableNames(catalogueFor("rebase"))).toEqual(expect.arrayContaining(["onto", "from", "paths"]));
    expect(variableNames(catalogueFor("review"))).toEqual(expect.arrayContaining(["pullRequestUrl", "diffSummary"]));
  });
});

describe("completeData", () => {
  it("fills every absent optional field with null, and absent lists with []", () => {
    const data = completeData("rebase", minimalData.rebase);
    expect(data).toMatchObject({ verifyCommand: null, e2eCommand: null, context: null, from: null, paths: [] });
    expect(data.issue).toMatchObject({ url: null, labels: [] });
  });

  it("passes only the catalogue's fields, at every depth", () => {
    const extra = { ...fullData.implementer, token: "secret", issue: { ...fullData.implementer.issue, milestone: "M1" } };
    const data = completeData("implementer", extra);
    expect(data).not.toHaveProperty("token");
    expect(data.issue).not.toHaveProperty("milestone");
    expect(data.dependencies).toEqual(fullData.implementer.dependencies);
  });

  it("keeps the values given", () => {
    expect(completeData("retry", fullData.retry)).toEqual(fullData.retry);
  });
});

describe("rendering", () => {
  it("renders absent optional fields as nothing under strict mode", () => {
    const template = compileTemplate("implementer", "[{{verifyCommand}}][{{issue.url}}][{{context}}]", "x.hbs");
    expect(template.render(minimalData.implementer)).toBe("[][][]");
  });

  it("does not escape: the output is markdown, not HTML", () => {
    const template = compileTemplate("implementer", "{{issue.title}}", "x.hbs");
    expect(template.render({ ...minimalData.implementer, issue: { ...minimalData.implementer.issue, title: "a < b && \"c\"" } })).toBe('a < b && "c"');
  });

  it("turns a render-time failure into a user error naming the file", () => {
    const template = compileTemplate("retry", "{{failure.kind}}", "retry.hbs");
    // A caller that bypasses the types (data from JSON): failure is null once completed.
    const data: unknown = { ...minimalData.retry, failure: null };
    expect(() => template.render(data as typeof minimalData.retry)).toThrow(/^retry\.hbs:1: the retry template failed to render/);
  });
});
