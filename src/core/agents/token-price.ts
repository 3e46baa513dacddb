/**
 * What an agent that reports tokens and no cost (Codex, Gemini CLI) is
 * taken to spend: `coordinator.prices`, dollars per million input and output
 * tokens, by model (`agent.model`) or by preset. The result is an estimate
 * (cached input is priced as input), marked so wherever it is shown. Pure.
 */

/** US dollars per million tokens. */
export interface TokenPrice {
  readonly input: number;
  readonly output: number;
}

export interface TokenCount {
  readonly input: number;
  readonly output: number;
}

/** The price for the agent: its model's when configured, else its preset's; null when neither is. */
export function priceFor(prices: Readonly<Record<string, TokenPrice>> | undefined, preset: string, model: string | null): TokenPrice | null {
  if (prices === undefined) return null;
  if (model !== null && Object.hasOwn(prices, model)) return prices[model] ?? null;
  return Object.hasOwn(prices, preset) ? (prices[preset] ?? null) : null;
}

/** Dollars for these tokens at this price (to a billionth of a dollar, finer than any price). */
export function tokenCost(tokens: TokenCount, price: TokenPrice): number {
  return Math.round(((tokens.input * price.input + tokens.output * price.output) / 1e6) * 1e9) / 1e9;
}
