import { describe, expect, it } from "vitest";
import { priceFor, tokenCost } from "./token-price.ts";

describe("coordinator.prices", () => {
  const prices = { codex: { input: 1.25, output: 10 }, "gpt-5-mini": { input: 0.25, output: 2 } };

  it("prices an agent by its model first, then by its preset, and not at all without either", () => {
    expect(priceFor(prices, "codex", "gpt-5-mini")).toEqual({ input: 0.25, output: 2 });
    expect(priceFor(prices, "codex", "gpt-5")).toEqual({ input: 1.25, output: 10 });
    expect(priceFor(prices, "codex", null)).toEqual({ input: 1.25, output: 10 });
    expect(priceFor(prices, "gemini", null)).toBeNull();
    expect(priceFor(undefined, "codex", null)).toBeNull();
    // A name inherited from Object's prototype is no price.
    expect(priceFor(prices, "toString", null)).toBeNull();
  });

  it("turns tokens into dollars at so much per million", () => {
    expect(tokenCost({ input: 1200, output: 80 }, { input: 10, output: 40 })).toBe(0.0152);
    expect(tokenCost({ input: 1_000_000, output: 0 }, { input: 1.25, output: 10 })).toBe(1.25);
  });
});
