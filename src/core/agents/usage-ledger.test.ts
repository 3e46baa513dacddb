import { describe, expect, it } from "vitest";
import { UsageLedger } from "./usage-ledger.ts";

describe("UsageLedger", () => {
  it("takes a share the agent states for itself, whatever the running total says", () => {
    const ledger = new UsageLedger();
    expect(ledger.share({ costUsd: 0.05, addCostUsd: 0.02 }, "s")).toBe(0.02);
    expect(ledger.share({ addCostUsd: 0.003 }, "s")).toBe(0.003);
  });

  it("counts what a running total grew by within its session", () => {
    const ledger = new UsageLedger();
    expect(ledger.share({ costUsd: 0.0125 }, "s")).toBe(0.0125);
    expect(ledger.share({ costUsd: 0.025 }, "s")).toBe(0.0125);
    expect(ledger.share({ costUsd: 0.01 }, "other")).toBe(0.01);
    // A total that went down was reset (/clear): it counts from zero.
    expect(ledger.share({ costUsd: 0.005 }, "s")).toBe(0.005);
  });

  it("takes the first total of a session resumed from another process as where it stood, not as this process's spending", () => {
    const ledger = new UsageLedger();
    ledger.resumed("s");
    expect(ledger.share({ costUsd: 0.069 }, "s")).toBe(0);
    expect(ledger.share({ costUsd: 0.1 }, "s")).toBe(0.031);
  });

  it("counts a resumed session's first result by its own share when the agent states one", () => {
    const ledger = new UsageLedger();
    ledger.resumed("s");
    expect(ledger.share({ costUsd: 0.069, addCostUsd: 0.03 }, "s")).toBe(0.03);
    expect(ledger.share({ costUsd: 0.08 }, "s")).toBe(0.011);
  });

  it("counts a restarted session's spend that no result stated: its running total less what was counted before (real claude 2.1.332)", () => {
    // Seen: claude stopped by `cspace restart` mid-turn printed no result for its $0.375 request; the resumed
    // process's result said total $0.75, own share $0.375. Nothing had been counted before: $0.75 is still to count.
    const lost = new UsageLedger();
    lost.resumed("s", 0);
    expect(lost.share({ costUsd: 0.75, addCostUsd: 0.375 }, "s")).toBe(0.75);
    expect(lost.share({ costUsd: 0.8, addCostUsd: 0.05 }, "s")).toBe(0.05);
    // When the stopped process did print its result (counted: $0.375), the resumed one counts only its own share.
    const printed = new UsageLedger();
    printed.resumed("s", 0.375);
    expect(printed.share({ costUsd: 0.75, addCostUsd: 0.375 }, "s")).toBe(0.375);
  });

  it("says nothing for a line that states no cost", () => {
    expect(new UsageLedger().share({}, "s")).toBeNull();
  });
});
