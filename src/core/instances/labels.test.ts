import { describe, expect, it } from "vitest";
import { instanceLabels, labelFilters, LABELS } from "./labels.ts";

describe("instanceLabels", () => {
  it("labels project, instance, base and the host it runs on", () => {
    expect(instanceLabels({ projectId: "web-1a2b3c4d", instance: "issue-3", base: "main", host: "big" })).toEqual({
      "dev.cspace.project": "web-1a2b3c4d",
      "dev.cspace.instance": "issue-3",
      "dev.cspace.base": "main",
      "dev.cspace.host": "big",
    });
  });

  it("adds issue, run and image inputs when known", () => {
    expect(instanceLabels({ projectId: "p", instance: "issue-3", base: "issue-2", issue: 3, run: "r1", imageInputs: "abc", host: "local" })).toEqual({
      [LABELS.project]: "p",
      [LABELS.instance]: "issue-3",
      [LABELS.base]: "issue-2",
      [LABELS.host]: "local",
      [LABELS.issue]: "3",
      [LABELS.run]: "r1",
      [LABELS.image]: "abc",
    });
  });
});

describe("labelFilters", () => {
  it("selects a project, or one instance of it", () => {
    expect(labelFilters("p")).toEqual(["dev.cspace.project=p"]);
    expect(labelFilters("p", "issue-3")).toEqual(["dev.cspace.project=p", "dev.cspace.instance=issue-3"]);
  });
});
