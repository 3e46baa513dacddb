import type { OperatorAnswer, OperatorChannel, OperatorHandler } from "../../src/core/coordinator-runtime/ports.ts";

/** The operator's channel in memory: `send` is `cspace send _coordinator "<text>"` on the host. */
export class FakeOperatorChannel implements OperatorChannel {
  #handler: OperatorHandler | null = null;
  /** Every answer given, in order. */
  readonly answers: OperatorAnswer[] = [];
  #waiting: (() => void)[] = [];

  open(onCommand: OperatorHandler): Promise<() => Promise<void>> {
    this.#handler = onCommand;
    for (const wake of this.#waiting.splice(0)) wake();
    return Promise.resolve(() => {
      this.#handler = null;
      return Promise.resolve();
    });
  }

  /** Resolves once a coordinator takes commands. */
  opened(): Promise<void> {
    if (this.#handler !== null) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  async send(text: string): Promise<OperatorAnswer> {
    if (this.#handler === null) throw new Error("no coordinator is running");
    const answer = await this.#handler(text);
    this.answers.push(answer);
    return answer;
  }
}
