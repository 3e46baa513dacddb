import { describe, expect, it } from "vitest";
import { checkWorkerReport } from "./worker-messages.ts";

describe("a report the host refuses", () => {
  it("names the field that is wrong", () => {
    const checked = checkWorkerReport({ id: "x", outcome: "bogus" });
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.message).toMatch(/^report\./);
  });

  it("is described in a bounded line, however many fields the worker sent (the words go back to it and into a notice)", () => {
    const many: Record<string, number> = {};
    for (let i = 0; i < 20_000; i++) many[`field${String(i)}`] = i;
    const checked = checkWorkerReport({ ...many, id: "x", outcome: "bogus" });
    expect(checked.ok).toBe(false);
    if (!checked.ok) {
      expect(checked.message.length).toBeLessThanOrEqual(400);
      expect(checked.message).not.toContain("\n");
    }
  });
});
