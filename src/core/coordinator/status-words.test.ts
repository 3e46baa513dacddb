import { describe, expect, it } from "vitest";
import { simulate } from "./simulate.ts";

describe("statuses in words (cspace status)", () => {
  it("say what an attempt is for in words, not by the name the code gives its kind", () => {
    const reasons = new Set<string>();
    simulate({
      issues: { 10: [], 12: [10] },
      settings: { review: true },
      scripts: { 10: { attempts: ["failure"] }, 12: { restack: ["conflict"] } },
      onEvent: (_event, _before, after) => {
        for (const record of Object.values(after.issues)) reasons.add(record.status.reason);
      },
    });
    const running = [...reasons].filter((reason) => / running/.test(reason));
    expect(running).toEqual(expect.arrayContaining(["attempt 1 running", "attempt 2 running (a retry)", "attempt 3 running (a review)", expect.stringMatching(/^attempt \d running \(a rebase\)$/)]));
    for (const reason of reasons) expect(reason).not.toMatch(/\((initial|retry|rebase|review)\)/);
  });
});
