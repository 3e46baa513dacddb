import type { LineFacts } from "./preset.ts";

/**
 * The agent's final message for its report, as its lines give it: whole
 * (`finalText`, the answer so far) or in chunks (`finalTextDelta`: Gemini
 * CLI 0.61.0 streams its answer only as `delta: true` messages, never whole).
 * Chunks in a row make one message; any other line (a tool call, its result)
 * ends it, so the next chunk starts the next message: the last one is the answer.
 */
export class FinalText {
  #text: string | null = null;
  #inChunks = false;

  take(facts: LineFacts): void {
    if (facts.finalTextDelta !== undefined) {
      this.#text = this.#inChunks ? `${this.#text ?? ""}${facts.finalTextDelta}` : facts.finalTextDelta;
      this.#inChunks = true;
      return;
    }
    this.#inChunks = false;
    if (facts.finalText !== undefined) this.#text = facts.finalText;
  }

  get text(): string | null {
    return this.#text;
  }
}
